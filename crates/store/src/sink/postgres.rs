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
//! Connection trouble maps to [`SinkError::Transient`] (the connection is dropped and made
//! again on the next write); bad data maps to [`SinkError::Permanent`]. `TIMESTAMPTZ` keeps
//! microseconds: a `ts` with finer digits is truncated to the microsecond.

mod sql;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use core_contracts::Bar;
use futures::pin_mut;
use tokio::sync::{Mutex, OnceCell};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Statement};

pub use sql::valid_identifier;

use super::dedup::{TsPrecision, newest_per_key};
use super::{Revision, Sink, SinkError};
use crate::config::PostgresOptions;
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

/// One pooled connection with its prepared statements.
struct Conn {
    client: Client,
    inserts: HashMap<usize, Statement>,
    stage_ready: bool,
}

/// A sink writing bars to a PostgreSQL table.
pub struct PostgresSink {
    config: Config,
    options: PostgresOptions,
    sql: Sql,
    slots: Vec<Mutex<Option<Conn>>>,
    next: AtomicUsize,
    schema_ready: OnceCell<()>,
}

impl std::fmt::Debug for PostgresSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSink")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PostgresSink {
    /// Connects with `config`, creating the schema and table if needed. An unreachable server
    /// is a [`SinkError::Transient`], a refused login or bad options a [`SinkError::Permanent`].
    pub async fn connect(config: Config, options: PostgresOptions) -> Result<Self, SinkError> {
        let sql = Sql::new(&options.schema, &options.table)?;
        let slots = (0..options.pool_size.get())
            .map(|_| Mutex::new(None))
            .collect();
        let sink = Self {
            config,
            options,
            sql,
            slots,
            next: AtomicUsize::new(0),
            schema_ready: OnceCell::new(),
        };
        let mut first = sink.slots[0].lock().await;
        *first = Some(sink.open_conn().await?);
        drop(first);
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

    async fn open_conn(&self) -> Result<Conn, SinkError> {
        let (mut client, connection) = self.config.connect(NoTls).await.map_err(classify)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "postgres connection ended");
            }
        });
        self.schema_ready
            .get_or_try_init(|| ensure_schema(&mut client, &self.sql))
            .await?;
        Ok(Conn {
            client,
            inserts: HashMap::new(),
            stage_ready: false,
        })
    }

    async fn write_rows(&self, conn: &mut Conn, rows: &[Row<'_>]) -> Result<(), SinkError> {
        if rows.len() >= self.options.copy_threshold.get() {
            copy_upsert(conn, &self.sql, rows).await
        } else {
            insert_upsert(conn, &self.sql, rows).await
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
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        let mut guard = slot.lock().await;
        let mut conn = match guard.take() {
            Some(conn) if !conn.client.is_closed() => conn,
            _ => self.open_conn().await?,
        };
        let result = self.write_rows(&mut conn, &rows).await;
        if !matches!(result, Err(SinkError::Transient(_))) {
            *guard = Some(conn);
        }
        result
    }

    async fn close(&self) -> Result<(), SinkError> {
        for slot in &self.slots {
            slot.lock().await.take();
        }
        Ok(())
    }

    async fn ready(&self) -> bool {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        let mut guard = slot.lock().await;
        let conn = match guard.take() {
            Some(conn) if !conn.client.is_closed() => conn,
            _ => match self.open_conn().await {
                Ok(conn) => conn,
                Err(_) => return false,
            },
        };
        let ok = conn.client.simple_query("SELECT 1").await.is_ok();
        if ok {
            *guard = Some(conn);
        }
        ok
    }
}

async fn ensure_schema(client: &mut Client, sql: &Sql) -> Result<(), SinkError> {
    let tx = client.transaction().await.map_err(classify)?;
    tx.batch_execute(&sql.create).await.map_err(classify)?;
    tx.commit().await.map_err(classify)
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

async fn insert_upsert(conn: &mut Conn, sql: &Sql, rows: &[Row<'_>]) -> Result<(), SinkError> {
    for len in rows.chunks(MAX_ROWS_PER_INSERT).map(<[_]>::len) {
        if !conn.inserts.contains_key(&len) {
            let stmt = conn
                .client
                .prepare(&sql.insert(len))
                .await
                .map_err(classify)?;
            conn.inserts.insert(len, stmt);
        }
    }
    let tx = conn.client.transaction().await.map_err(classify)?;
    for chunk in rows.chunks(MAX_ROWS_PER_INSERT) {
        let values: Vec<&(dyn ToSql + Sync)> = chunk.iter().flat_map(params).collect();
        let stmt = conn
            .inserts
            .get(&chunk.len())
            .ok_or_else(|| SinkError::Transient("insert statement not prepared".to_owned()))?;
        tx.execute(stmt, &values).await.map_err(classify)?;
    }
    tx.commit().await.map_err(classify)
}

async fn copy_upsert(conn: &mut Conn, sql: &Sql, rows: &[Row<'_>]) -> Result<(), SinkError> {
    if !conn.stage_ready {
        conn.client
            .batch_execute(&sql.create_stage)
            .await
            .map_err(classify)?;
        conn.stage_ready = true;
    }
    let tx = conn.client.transaction().await.map_err(classify)?;
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

/// Maps a driver error: connection and resource trouble may pass, bad data will not.
pub(crate) fn classify(err: tokio_postgres::Error) -> SinkError {
    let message = format!("postgres: {}", error_chain(&err));
    let transient = match err.code() {
        Some(state) => {
            let code = state.code();
            ["08", "53", "57", "58", "40001", "40P01", "55P03"]
                .iter()
                .any(|prefix| code.starts_with(prefix))
        }
        None => {
            let text = err.to_string();
            !(text.starts_with("error serializing") || text.starts_with("error deserializing"))
        }
    };
    if transient {
        SinkError::Transient(message)
    } else {
        SinkError::Permanent(message)
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
