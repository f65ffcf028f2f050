//! The SQLite sink on a temporary file: created on first use, WAL mode, exact decimals,
//! idempotent re-writes, the newest revision of each key kept, old tables migrated.

#[path = "support/bars.rs"]
mod bars;
#[path = "support/revisions.rs"]
mod revisions;

use bars::WriteAt;
use rusqlite::Connection;
use store::sink::{Sink, SinkError, SqliteSink};

fn rows(path: &std::path::Path) -> Vec<(String, String, String, String, i64)> {
    let conn = Connection::open(path).expect("open for reading");
    let mut stmt = conn
        .prepare("SELECT symbol, ts, open, close, delayed FROM bars ORDER BY symbol, ts")
        .expect("prepare");
    stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[tokio::test]
async fn creates_the_file_and_table_on_first_use() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/dir/bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    assert!(path.exists());
    sink.write_at(&bars::bars("AAPL", 3), 1)
        .await
        .expect("writes");
    assert_eq!(rows(&path).len(), 3);
}

#[tokio::test]
async fn runs_in_wal_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let _sink = SqliteSink::open(&path).await.expect("opens");
    let conn = Connection::open(&path).expect("open for reading");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn rewriting_a_batch_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    let batch = bars::bars("AAPL", 1_000);
    sink.write_at(&batch, 1).await.expect("first write");
    let first = rows(&path);
    sink.write_at(&batch, 1).await.expect("second write");
    assert_eq!(rows(&path), first);
    assert_eq!(first.len(), 1_000);
}

#[tokio::test]
async fn upserts_new_values_on_the_bar_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    let batch = bars::bars("AAPL", 2);
    sink.write_at(&batch, 1).await.expect("first write");
    sink.write_at(&[bars::with_close(&batch[0], "100.50")], 1)
        .await
        .expect("update");
    let stored = rows(&path);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].3, "100.50");
}

#[tokio::test]
async fn keeps_decimals_exactly_as_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    let mut bar = bars::bars("AAPL", 1).remove(0);
    bar.low = "0.000000000000000001".parse().expect("decimal");
    bar.open = "187.80".parse().expect("decimal");
    bar.close = "12345678901234.56789".parse().expect("decimal");
    bar.high = bar.close;
    sink.write_at(std::slice::from_ref(&bar), 1)
        .await
        .expect("writes");
    let stored = rows(&path);
    assert_eq!(stored[0].2, "187.80");
    assert_eq!(stored[0].3, "12345678901234.56789");
    assert_eq!(stored[0].1, "2024-05-01T13:30:00.000000000Z");
}

#[tokio::test]
async fn the_last_duplicate_in_a_batch_wins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    let bar = bars::bars("AAPL", 1).remove(0);
    let batch = [
        bars::with_close(&bar, "100.30"),
        bars::with_close(&bar, "100.40"),
    ];
    sink.write_at(&batch, 1).await.expect("writes");
    let stored = rows(&path);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].3, "100.40");
}

#[tokio::test]
async fn writes_batches_larger_than_one_statement() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    sink.write_at(&bars::bars("AAPL", 10_001), 1)
        .await
        .expect("writes");
    assert_eq!(rows(&path).len(), 10_001);
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    sink.write_at(&bars::bars("AAPL", 5), 1)
        .await
        .expect("writes");
    sink.flush().await.expect("flushes");
    sink.close().await.expect("closes");
    let again = SqliteSink::open(&path).await.expect("reopens");
    again
        .write_at(&bars::bars("MSFT", 5), 1)
        .await
        .expect("writes");
    assert_eq!(rows(&path).len(), 10);
    assert!(again.ready().await);
}

#[tokio::test]
async fn a_closed_sink_refuses_writes_for_good() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = SqliteSink::open(dir.path().join("bars.db"))
        .await
        .expect("opens");
    sink.close().await.expect("closes");
    let err = sink
        .write_at(&bars::bars("AAPL", 1), 1)
        .await
        .expect_err("closed");
    assert!(matches!(err, SinkError::Permanent(_)), "{err}");
    assert!(!sink.ready().await);
}

#[tokio::test]
async fn an_unopenable_path_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").expect("write file");
    let err = SqliteSink::open(file.join("bars.db"))
        .await
        .expect_err("a file is not a directory");
    assert!(err.to_string().contains("plain-file"), "{err}");
}

#[tokio::test]
async fn open_sink_picks_the_backend_from_the_url() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("via-url.db");
    let options = store::sink::SinkOptions::default();
    let sqlite = store::sink::open_sink(&format!("sqlite://{}", path.display()), &options)
        .await
        .expect("sqlite opens");
    assert_eq!(sqlite.name(), "sqlite");
    sqlite
        .write_at(&bars::bars("AAPL", 2), 1)
        .await
        .expect("writes");
    assert_eq!(rows(&path).len(), 2);
    let memory = store::sink::open_sink("memory://", &options)
        .await
        .expect("memory opens");
    assert_eq!(memory.name(), "memory");
    let err = store::sink::open_sink("redis://x", &options)
        .await
        .map(|_| ())
        .expect_err("not a sink");
    assert!(err.to_string().contains("sqlite://"), "{err}");
}

#[tokio::test]
async fn metered_sinks_record_writes_by_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let metrics = store::telemetry::SinkMetrics::default();
    let options = store::sink::SinkOptions {
        metrics: Some(metrics.clone()),
        ..Default::default()
    };
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let sink = store::sink::open_sink(&url, &options).await.expect("opens");
    sink.write_at(&bars::bars("AAPL", 2), 1)
        .await
        .expect("writes");
    sink.close().await.expect("closes");
    assert!(sink.write_at(&bars::bars("AAPL", 1), 1).await.is_err());
    assert_eq!(metrics.write_count("sqlite", "success"), 1);
    assert_eq!(metrics.write_count("sqlite", "error"), 1);
}

#[tokio::test]
async fn bars_nanoseconds_apart_are_distinct_rows_as_sqlite_stores_nanoseconds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    let first = bars::bars("AAPL", 1).remove(0);
    let mut second = bars::with_close(&first, "250.50");
    second.ts += chrono::Duration::nanoseconds(500);
    sink.write_at(&[first, second], 1).await.expect("writes");
    assert_eq!(rows(&path).len(), 2);
}

/// `(symbol, close, revision)` of every row.
fn revised_rows(path: &std::path::Path) -> Vec<(String, String, i64)> {
    let conn = Connection::open(path).expect("open for reading");
    let mut stmt = conn
        .prepare("SELECT symbol, close, revision FROM bars ORDER BY symbol, ts")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[tokio::test]
async fn keeps_the_newest_revision_whatever_order_writes_arrive_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let sink = SqliteSink::open(&path).await.expect("opens");
    revisions::write_all(&sink).await;
    revisions::check(&revised_rows(&path));
}

#[tokio::test]
async fn migrates_a_table_without_revisions_and_keeps_its_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bars.db");
    let conn = Connection::open(&path).expect("open");
    conn.execute_batch(
        "CREATE TABLE bars (
            provider TEXT NOT NULL, symbol TEXT NOT NULL, resolution TEXT NOT NULL,
            ts TEXT NOT NULL, open TEXT NOT NULL, high TEXT NOT NULL, low TEXT NOT NULL,
            close TEXT NOT NULL, volume TEXT NOT NULL, delayed INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (provider, symbol, resolution, ts)
        ) WITHOUT ROWID;
        INSERT INTO bars VALUES ('test', 'OLD', '1m', '2024-05-01T13:30:00.000000000Z',
            '1', '2', '1', '1.50', '10', 0);",
    )
    .expect("old table");
    drop(conn);

    let sink = SqliteSink::open(&path).await.expect("opens and migrates");
    assert_eq!(
        revised_rows(&path),
        [("OLD".to_owned(), "1.50".to_owned(), 0)],
        "old rows kept at revision 0"
    );
    let again = SqliteSink::open(&path)
        .await
        .expect("a migrated table opens again");
    drop(again);
    let bar = bars::with_close(&bars::bars("OLD", 1)[0], "2.50");
    sink.write_at(&[bar], 1).await.expect("writes");
    assert_eq!(
        revised_rows(&path),
        [("OLD".to_owned(), "2.50".to_owned(), 1)],
        "any revision outranks an old row"
    );
}
