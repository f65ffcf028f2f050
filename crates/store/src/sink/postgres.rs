//! The PostgreSQL sink for production: `NUMERIC` prices, `TIMESTAMPTZ` times, a primary key on
//! the bar key, schema and table created on first use.
//!
//! Small batches go through one multi-row `INSERT ... ON CONFLICT DO UPDATE`; batches of at
//! least [`PostgresOptions::copy_threshold`] bars are streamed with binary `COPY` into a
//! session-local staging table and merged with one `INSERT ... SELECT ... ON CONFLICT DO
//! UPDATE`. Either way a batch is one transaction, a row holding a higher revision is left
//! alone and re-writing a batch is idempotent. A table made before revisions gets the
//! `revision` column (revision 0 for its rows) when the sink connects.
//!
//! Writes share a pool of [`PostgresOptions::pool_size`] sessions: a write takes whichever is
//! free (waiting at most [`PostgresOptions::pool_timeout`]), each session keeps its prepared
//! statements and its staging table. A closed session is replaced when next taken.
//!
//! Connection trouble maps to [`SinkError::Transient`] (the session is dropped and made again
//! on a later write); bad data maps to [`SinkError::Permanent`]. `TIMESTAMPTZ` keeps
//! microseconds: a `ts` with finer digits is truncated to the microsecond.
//!
//! TLS follows libpq's `sslmode` (see [`SslMode`]; `prefer` by default) with rustls; the
//! server's notices are logged at DEBUG.

mod error;
mod pool;
mod sql;
mod tls;

use std::sync::Arc;

use async_trait::async_trait;
use core_contracts::Bar;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use futures::pin_mut;
use tokio_postgres::Config;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::dedup::{TsPrecision, newest_per_key};
use super::{Revision, Sink, SinkError};
use crate::config::{PostgresOptions, PostgresUrl, SslMode};
use error::{classify, describe, pool_error};
use pool::{Connector, Lease};
use sql::Sql;

/// PostgreSQL's limit on bind parameters in one statement, divided by the columns of a row.
const MAX_ROWS_PER_INSERT: usize = 65_535 / sql::COLUMN_COUNT;

const COPY_TYPES: [Type; sql::COLUMN_COUNT] = [
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TIMESTAMPTZ,
    Type::NUMERIC,
    Type::NUMERIC,
    Type::NUMERIC,
    Type::NUMERIC,
    Type::NUMERIC,
    Type::BOOL,
    Type::INT8,
];

/// One deduplicated row: the bar and its raw revision.
type Row<'a> = (&'a Bar, i64);

/// A sink writing bars to a PostgreSQL table.
pub struct PostgresSink {
    pool: Pool,
    options: PostgresOptions,
    sql: Arc<Sql>,
    /// Where it connects, for messages.
    target: String,
}

impl std::fmt::Debug for PostgresSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSink")
            .field("target", &self.target)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PostgresSink {
    /// Connects with `config` (TLS as its `sslmode`: `disable`, `prefer` or `require`),
    /// creating the schema and table if needed. An unreachable server is a
    /// [`SinkError::Transient`], a refused login or bad options a [`SinkError::Permanent`].
    pub async fn connect(config: Config, options: PostgresOptions) -> Result<Self, SinkError> {
        let ssl_mode = match config.get_ssl_mode() {
            tokio_postgres::config::SslMode::Disable => SslMode::Disable,
            tokio_postgres::config::SslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        };
        let url = PostgresUrl {
            config,
            ssl_mode,
            root_cert: None,
        };
        Self::open(url, options).await
    }

    /// Connects to `url` with its TLS settings: the roots of `verify-ca` and `verify-full` are
    /// the URL's `sslrootcert`, else [`PostgresOptions::ca_file`], else the system's. Fails as
    /// [`PostgresSink::connect`] does; a TLS failure (no TLS on the server where the mode
    /// requires it, a certificate refused) and an unreadable CA file are permanent.
    pub async fn open(url: PostgresUrl, options: PostgresOptions) -> Result<Self, SinkError> {
        let sql = Arc::new(Sql::new(&options.schema, &options.table)?);
        let ca_file = url.root_cert.as_deref().or(options.ca_file.as_deref());
        let tls = tls::connector(url.ssl_mode, ca_file)?;
        let target = describe(&url, ca_file);
        let manager = Manager::from_connect(
            url.config,
            Connector::new(tls, Arc::clone(&sql)),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let timeout = Some(options.pool_timeout);
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.get())
            .runtime(Runtime::Tokio1)
            .wait_timeout(timeout)
            .create_timeout(timeout)
            .recycle_timeout(timeout)
            .build()
            .map_err(|e| SinkError::Permanent(format!("postgres pool for {target}: {e}")))?;
        let sink = Self {
            pool,
            options,
            sql,
            target,
        };
        sink.lease(true).await?.release();
        Ok(sink)
    }

    /// The options the sink runs with.
    pub fn options(&self) -> &PostgresOptions {
        &self.options
    }

    /// The schema-qualified, quoted table name, e.g. `"public"."bars"`.
    pub fn qualified_table(&self) -> &str {
        &self.sql.table
    }

    /// A free session of the pool, made if none is idle and the pool is not full.
    async fn lease(&self, opening: bool) -> Result<Lease, SinkError> {
        self.pool
            .get()
            .await
            .map(Lease::new)
            .map_err(|e| pool_error(&self.target, &self.options, opening, e))
    }

    async fn write_rows(&self, lease: &mut Lease, rows: &[Row<'_>]) -> Result<(), SinkError> {
        if rows.len() >= self.options.copy_threshold.get() {
            copy_upsert(lease, &self.sql, rows).await
        } else {
            insert_upsert(lease, &self.sql, rows).await
        }
    }
}

#[async_trait]
impl Sink for PostgresSink {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn write(&self, batch: &[Bar], revisions: &[Revision]) -> Result<(), SinkError> {
        let rows: Vec<Row<'_>> = newest_per_key(batch, revisions, TsPrecision::PostgresMicros)?
            .into_iter()
            .map(|(bar, revision)| (bar, revision.get()))
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let mut lease = self.lease(false).await?;
        let result = self.write_rows(&mut lease, &rows).await;
        // A transient failure may have left the session broken or mid-transaction: dropping
        // the lease closes it instead.
        if !matches!(result, Err(SinkError::Transient(_))) {
            lease.release();
        }
        result
    }

    async fn close(&self) -> Result<(), SinkError> {
        self.pool.close();
        Ok(())
    }

    async fn ready(&self) -> bool {
        let Ok(mut lease) = self.lease(false).await else {
            return false;
        };
        let ok = lease.session().simple_query("SELECT 1").await.is_ok();
        if ok {
            lease.release();
        }
        ok
    }
}

fn params<'a>((bar, revision): &'a Row<'_>) -> [&'a (dyn ToSql + Sync); sql::COLUMN_COUNT] {
    [
        &bar.provider,
        &bar.symbol,
        &bar.resolution,
        &bar.ts,
        &bar.open,
        &bar.high,
        &bar.low,
        &bar.close,
        &bar.volume,
        &bar.delayed,
        revision,
    ]
}

async fn insert_upsert(lease: &mut Lease, sql: &Sql, rows: &[Row<'_>]) -> Result<(), SinkError> {
    let session = lease.session();
    let mut statements = Vec::new();
    for chunk in rows.chunks(MAX_ROWS_PER_INSERT) {
        let stmt = session
            .prepare_cached(&sql.insert(chunk.len()))
            .await
            .map_err(classify)?;
        statements.push(stmt);
    }
    let tx = session.transaction().await.map_err(classify)?;
    for (chunk, stmt) in rows.chunks(MAX_ROWS_PER_INSERT).zip(&statements) {
        let values: Vec<&(dyn ToSql + Sync)> = chunk.iter().flat_map(params).collect();
        tx.execute(stmt, &values).await.map_err(classify)?;
    }
    tx.commit().await.map_err(classify)
}

/// `COPY` into the session's staging table (made with the session, see [`Connector`]), then
/// one merge.
async fn copy_upsert(lease: &mut Lease, sql: &Sql, rows: &[Row<'_>]) -> Result<(), SinkError> {
    let tx = lease.session().transaction().await.map_err(classify)?;
    let copy = tx.copy_in(&sql.copy_stage).await.map_err(classify)?;
    let writer = BinaryCopyInWriter::new(copy, &COPY_TYPES);
    pin_mut!(writer);
    for row in rows {
        writer
            .as_mut()
            .write(&params(row))
            .await
            .map_err(classify)?;
    }
    writer.finish().await.map_err(classify)?;
    tx.batch_execute(&sql.merge_stage).await.map_err(classify)?;
    tx.commit().await.map_err(classify)
}
