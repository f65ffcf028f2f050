//! The sink's sessions: a deadpool pool of connections made by [`Connector`] (TLS as the
//! URL's `sslmode` says, a task driving each connection that logs the server's notices at
//! DEBUG, every new session prepared before it is pooled) and [`Lease`], which lets a session
//! back into the pool only when its write finished cleanly.

use std::sync::Arc;

use deadpool_postgres::{Connect, Object};
use futures::StreamExt;
use futures::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, Config, Connection, Error};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::sql::Sql;

/// Makes the pool's connections. The first one creates the schema and table; every one
/// creates its session's staging table, so a pooled session is always ready for `COPY`.
pub(super) struct Connector {
    tls: MakeRustlsConnect,
    sql: Arc<Sql>,
    schema_ready: OnceCell<()>,
}

impl Connector {
    pub(super) fn new(tls: MakeRustlsConnect, sql: Arc<Sql>) -> Self {
        Self {
            tls,
            sql,
            schema_ready: OnceCell::new(),
        }
    }

    async fn prepare(&self, client: &mut Client) -> Result<(), Error> {
        self.schema_ready
            .get_or_try_init(|| async {
                let tx = client.transaction().await?;
                tx.batch_execute(&self.sql.create).await?;
                tx.commit().await
            })
            .await?;
        client.batch_execute(&self.sql.create_stage).await
    }
}

impl Connect for Connector {
    fn connect(&self, config: &Config) -> BoxFuture<'_, Result<(Client, JoinHandle<()>), Error>> {
        let config = config.clone();
        Box::pin(async move {
            let (mut client, connection) = config.connect(self.tls.clone()).await?;
            let task = tokio::spawn(drive(connection));
            // On failure the client is dropped, which ends the connection and its task.
            self.prepare(&mut client).await?;
            Ok((client, task))
        })
    }
}

/// Runs `connection` until it closes, logging notices (`CREATE ... IF NOT EXISTS` skipping,
/// for one) at DEBUG instead of letting the driver log them at INFO.
async fn drive<S, T>(mut connection: Connection<S, T>)
where
    S: AsyncRead + AsyncWrite + Unpin,
    T: AsyncRead + AsyncWrite + Unpin,
{
    let mut messages = futures::stream::poll_fn(|cx| connection.poll_message(cx));
    while let Some(message) = messages.next().await {
        match message {
            Ok(AsyncMessage::Notice(notice)) => tracing::debug!(
                severity = notice.severity(),
                code = notice.code().code(),
                message = notice.message(),
                "postgres notice"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "postgres connection ended");
                return;
            }
        }
    }
}

/// A pooled session held for one write. [`Lease::release`] puts it back; dropped otherwise
/// (a transient failure, a cancelled write) it leaves the pool and is closed, so no session
/// in an unknown state is handed out again.
pub(super) struct Lease(Option<Object>);

impl Lease {
    pub(super) fn new(session: Object) -> Self {
        Self(Some(session))
    }

    /// The session, for statements.
    pub(super) fn session(&mut self) -> &mut Object {
        self.0
            .as_mut()
            .expect("a lease holds its session until dropped")
    }

    /// Puts the session back into the pool.
    pub(super) fn release(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(session) = self.0.take() {
            drop(Object::take(session));
        }
    }
}
