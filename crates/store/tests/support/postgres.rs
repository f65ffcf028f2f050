//! A PostgreSQL schema of its own for one test, dropped afterwards.
//!
//! The server is `MDP_TEST_DATABASE_URL` (default `postgres://root@127.0.0.1:5432/test`).
//! When it cannot be reached the test is skipped (`pulse::testing::skip`: a marker line, and
//! a failure under CI: CI must never pass by skipping).

#![allow(dead_code)]

use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls};

/// The server used when `MDP_TEST_DATABASE_URL` is not set.
pub(crate) const DEFAULT_URL: &str = "postgres://root@127.0.0.1:5432/test";

/// The test server's URL.
pub(crate) fn url() -> String {
    std::env::var("MDP_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// A uniquely named schema, dropped (with everything in it) when this value is dropped.
pub(crate) struct TestSchema {
    /// The schema name, e.g. `mdp_test_1a2b3c4d5e6f`.
    pub name: String,
    /// The server URL.
    pub url: String,
}

impl TestSchema {
    /// A fresh schema name on a reachable server; `None` after a skip when the server is
    /// unreachable (a failure under CI).
    pub(crate) async fn new() -> Option<Self> {
        let url = url();
        if let Err(e) = connect(&url).await {
            pulse::testing::skip(&format!(
                "PostgreSQL at {url} is unreachable ({e}); set MDP_TEST_DATABASE_URL or start \
                 the server"
            ));
            return None;
        }
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Some(Self {
            name: format!("mdp_test_{}", &suffix[..12]),
            url,
        })
    }

    /// A client on the test server, for reading back what a sink wrote.
    pub(crate) async fn client(&self) -> Client {
        connect(&self.url).await.expect("test server reachable")
    }

    /// The quoted, schema-qualified name of `table`.
    pub(crate) fn table(&self, table: &str) -> String {
        format!("\"{}\".\"{table}\"", self.name)
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let url = self.url.clone();
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        // A thread of its own: this may run inside a tokio runtime that must not block.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for schema cleanup");
            rt.block_on(async move {
                let client = connect(&url).await?;
                client.batch_execute(&sql).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test schema {}", self.name);
        }
    }
}

async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let mut config = Config::from_str(url)?;
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
