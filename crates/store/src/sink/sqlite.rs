//! The SQLite file sink, the embedded default: one file in WAL mode, created on first use,
//! written by multi-row upserts on the bar key that leave a row alone when it holds a higher
//! revision (a table made before revisions gets the `revision` column at open). Commits are synced with `synchronous=FULL`
//! unless [`SqliteSynchronous::Normal`] is chosen (faster; a power loss may then undo the
//! last commits, which the coordinator has already reported written).
//!
//! Decimals are stored as their exact text (`"187.80"` stays `"187.80"`) and `ts` as RFC 3339
//! UTC with nanoseconds, a fixed-width form that sorts in time order. SQLite calls block, so
//! every call runs on tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::SecondsFormat;
use core_contracts::Bar;
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, params_from_iter};

use super::dedup::{TsPrecision, newest_per_key};
use super::{Revision, Sink, SinkError};
use crate::config::SqliteSynchronous;

/// Rows per `INSERT` statement: 11 parameters a row stays far below SQLite's variable limit.
const ROWS_PER_STATEMENT: usize = 200;
/// How long a writer waits for a lock held by another connection.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The table bars are written to.
pub const TABLE: &str = "bars";

const COLUMNS: &str =
    "provider, symbol, resolution, ts, open, high, low, close, volume, delayed, revision";
const UPSERT_TAIL: &str = " ON CONFLICT (provider, symbol, resolution, ts) DO UPDATE SET \
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close, \
    volume = excluded.volume, delayed = excluded.delayed, revision = excluded.revision \
    WHERE excluded.revision >= bars.revision";

/// A sink writing bars to a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteSink {
    path: PathBuf,
    conn: Arc<Mutex<Option<Connection>>>,
}

impl SqliteSink {
    /// Opens (creating if needed) the database file at `path` and its `bars` table, in WAL
    /// mode with `synchronous=FULL`.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        Self::open_with(path, SqliteSynchronous::default()).await
    }

    /// Opens (creating if needed) the database file at `path` and its `bars` table, in WAL
    /// mode, syncing commits as `synchronous` says.
    pub async fn open_with(
        path: impl AsRef<Path>,
        synchronous: SqliteSynchronous,
    ) -> Result<Self, SinkError> {
        let path = path.as_ref().to_path_buf();
        let for_open = path.clone();
        let conn = blocking(move || open_connection(&for_open, synchronous)).await??;
        Ok(Self {
            path,
            conn: Arc::new(Mutex::new(Some(conn))),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn with_conn<T, F>(&self, f: F) -> Result<T, SinkError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, SinkError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        blocking(move || {
            let mut guard = lock(&conn);
            let conn = guard
                .as_mut()
                .ok_or_else(|| SinkError::Permanent("sqlite sink is closed".to_owned()))?;
            f(conn)
        })
        .await?
    }
}

#[async_trait]
impl Sink for SqliteSink {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn write(&self, batch: &[Bar], revisions: &[Revision]) -> Result<(), SinkError> {
        let rows: Vec<[Value; 11]> = newest_per_key(batch, revisions, TsPrecision::Nanos)?
            .into_iter()
            .map(|(bar, revision)| row(bar, revision))
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        self.with_conn(move |conn| upsert(conn, rows)).await
    }

    async fn flush(&self) -> Result<(), SinkError> {
        self.with_conn(|conn| {
            conn.query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(()))
                .map_err(classify)
        })
        .await
    }

    async fn close(&self) -> Result<(), SinkError> {
        let conn = Arc::clone(&self.conn);
        blocking(move || match lock(&conn).take() {
            Some(conn) => conn.close().map_err(|(_, e)| classify(e)),
            None => Ok(()),
        })
        .await?
    }

    async fn ready(&self) -> bool {
        self.with_conn(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(classify))
            .await
            .is_ok()
    }
}

fn open_connection(path: &Path, synchronous: SqliteSynchronous) -> Result<Connection, SinkError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            SinkError::Permanent(format!("cannot create directory {}: {e}", dir.display()))
        })?;
    }
    let conn = Connection::open(path).map_err(|e| {
        SinkError::Permanent(format!("cannot open sqlite file {}: {e}", path.display()))
    })?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(classify)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(classify)?;
    conn.pragma_update(None, "synchronous", synchronous.as_pragma())
        .map_err(classify)?;
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (
            provider   TEXT    NOT NULL,
            symbol     TEXT    NOT NULL,
            resolution TEXT    NOT NULL,
            ts         TEXT    NOT NULL,
            open       TEXT    NOT NULL,
            high       TEXT    NOT NULL,
            low        TEXT    NOT NULL,
            close      TEXT    NOT NULL,
            volume     TEXT    NOT NULL,
            delayed    INTEGER NOT NULL DEFAULT 0,
            revision   BIGINT  NOT NULL DEFAULT 0,
            PRIMARY KEY (provider, symbol, resolution, ts)
        ) WITHOUT ROWID;"
    ))
    .map_err(classify)?;
    add_revision_column(&conn)?;
    Ok(conn)
}

/// Adds the `revision` column to a table made before revisions (its rows get revision 0).
/// Another process adding it at the same time is fine.
fn add_revision_column(conn: &Connection) -> Result<(), SinkError> {
    if has_revision_column(conn)? {
        return Ok(());
    }
    let added = conn.execute_batch(&format!(
        "ALTER TABLE {TABLE} ADD COLUMN revision BIGINT NOT NULL DEFAULT 0"
    ));
    match added {
        Ok(()) => Ok(()),
        Err(_) if has_revision_column(conn)? => Ok(()),
        Err(e) => Err(classify(e)),
    }
}

fn has_revision_column(conn: &Connection) -> Result<bool, SinkError> {
    let mut stmt = conn
        .prepare(&format!("SELECT name FROM pragma_table_info('{TABLE}')"))
        .map_err(classify)?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(classify)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(classify)?;
    Ok(names.iter().any(|name| name == "revision"))
}

fn row(bar: &Bar, revision: Revision) -> [Value; 11] {
    [
        Value::Text(bar.provider.clone()),
        Value::Text(bar.symbol.clone()),
        Value::Text(bar.resolution.clone()),
        Value::Text(bar.ts.to_rfc3339_opts(SecondsFormat::Nanos, true)),
        Value::Text(bar.open.to_string()),
        Value::Text(bar.high.to_string()),
        Value::Text(bar.low.to_string()),
        Value::Text(bar.close.to_string()),
        Value::Text(bar.volume.to_string()),
        Value::Integer(i64::from(bar.delayed)),
        Value::Integer(revision.get()),
    ]
}

fn insert_sql(rows: usize) -> String {
    let one = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    let values = vec![one; rows].join(", ");
    format!("INSERT INTO {TABLE} ({COLUMNS}) VALUES {values}{UPSERT_TAIL}")
}

fn upsert(conn: &mut Connection, rows: Vec<[Value; 11]>) -> Result<(), SinkError> {
    let tx = conn.transaction().map_err(classify)?;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut stmt = tx
            .prepare_cached(&insert_sql(chunk.len()))
            .map_err(classify)?;
        stmt.execute(params_from_iter(chunk.iter().flatten()))
            .map_err(classify)?;
    }
    tx.commit().map_err(classify)
}

/// Maps a SQLite error: lock contention and I/O trouble may pass, the rest will not.
fn classify(err: rusqlite::Error) -> SinkError {
    let transient = matches!(
        err.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::OutOfMemory
        )
    );
    if transient {
        SinkError::Transient(format!("sqlite: {err}"))
    } else {
        SinkError::Permanent(format!("sqlite: {err}"))
    }
}

fn lock(conn: &Mutex<Option<Connection>>) -> MutexGuard<'_, Option<Connection>> {
    // A panic while holding the lock leaves the connection usable: transactions roll back
    // when dropped, so the poison flag carries no information here.
    conn.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn blocking<T, F>(f: F) -> Result<T, SinkError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SinkError::Transient(format!("sqlite task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syncs_commits_as_configured_full_by_default() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cases = [
            (SqliteSynchronous::default(), 2),
            (SqliteSynchronous::Full, 2),
            (SqliteSynchronous::Normal, 1),
        ];
        for (i, (synchronous, pragma)) in cases.into_iter().enumerate() {
            let conn =
                open_connection(&dir.path().join(format!("{i}.db")), synchronous).expect("opens");
            let got: i64 = conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .expect("pragma");
            assert_eq!(got, pragma, "{synchronous:?}");
        }
    }
}
