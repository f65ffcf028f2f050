//! The PostgreSQL sink against a real server, each test in a schema of its own that is
//! dropped afterwards: schema on first use, both write paths, exact decimals, idempotent
//! re-writes, error classification.

#[path = "support/bars.rs"]
mod bars;
#[path = "support/postgres.rs"]
mod pg;
#[path = "support/revisions.rs"]
mod revisions;

use std::num::NonZeroUsize;
use std::str::FromStr;
use std::sync::Arc;

use bars::WriteAt;
use store::config::PostgresOptions;
use store::sink::{OpenSinkError, PostgresSink, Sink, SinkError, SinkOptions, open_sink};

fn options(schema: &pg::TestSchema, copy_threshold: usize) -> PostgresOptions {
    PostgresOptions {
        schema: schema.name.clone(),
        copy_threshold: NonZeroUsize::new(copy_threshold).expect("non-zero"),
        ..PostgresOptions::default()
    }
}

async fn sink(schema: &pg::TestSchema, copy_threshold: usize) -> PostgresSink {
    let config = tokio_postgres::Config::from_str(&schema.url).expect("valid url");
    PostgresSink::connect(config, options(schema, copy_threshold))
        .await
        .expect("connects")
}

/// `(symbol, ts, open, close, volume, delayed)` of every row, decimals as PostgreSQL prints them.
async fn rows(schema: &pg::TestSchema) -> Vec<(String, String, String, String, String, bool)> {
    let client = schema.client().await;
    let sql = format!(
        "SELECT symbol, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS'), \
         open::text, close::text, volume::text, delayed FROM {} ORDER BY symbol, ts",
        schema.table("bars")
    );
    client
        .query(&sql, &[])
        .await
        .expect("query")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

#[tokio::test]
async fn creates_schema_and_table_on_first_use() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = sink(&schema, 1000).await;
    assert_eq!(
        sink.qualified_table(),
        format!("\"{}\".\"bars\"", schema.name)
    );
    let client = schema.client().await;
    let pk: i64 = client
        .query_one(
            "SELECT count(*) FROM information_schema.table_constraints \
             WHERE table_schema = $1 AND table_name = 'bars' AND constraint_type = 'PRIMARY KEY'",
            &[&schema.name],
        )
        .await
        .expect("query")
        .get(0);
    assert_eq!(pk, 1);
    assert!(sink.ready().await);
}

#[tokio::test]
async fn rewriting_a_small_batch_is_idempotent() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = sink(&schema, 1000).await;
    let batch = bars::bars("AAPL", 100);
    sink.write_at(&batch, 1).await.expect("first write");
    let first = rows(&schema).await;
    sink.write_at(&batch, 1).await.expect("second write");
    assert_eq!(rows(&schema).await, first);
    assert_eq!(first.len(), 100);
}

#[tokio::test]
async fn rewriting_a_large_batch_through_copy_is_idempotent() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = sink(&schema, 100).await;
    let batch = bars::bars("AAPL", 5_000);
    sink.write_at(&batch, 1).await.expect("first write");
    let first = rows(&schema).await;
    sink.write_at(&batch, 1).await.expect("second write");
    assert_eq!(rows(&schema).await, first);
    assert_eq!(first.len(), 5_000);
}

#[tokio::test]
async fn copy_and_insert_paths_store_the_same_rows() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let batch = bars::bars("AAPL", 50);
    sink(&schema, 1000)
        .await
        .write_at(&batch, 1)
        .await
        .expect("insert path");
    let by_insert = rows(&schema).await;
    schema
        .client()
        .await
        .batch_execute(&format!("TRUNCATE {}", schema.table("bars")))
        .await
        .expect("truncate");
    sink(&schema, 10)
        .await
        .write_at(&batch, 1)
        .await
        .expect("copy path");
    assert_eq!(rows(&schema).await, by_insert);
}

#[tokio::test]
async fn upserts_new_values_on_the_bar_key_on_both_paths() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    for threshold in [1000, 1] {
        let sink = sink(&schema, threshold).await;
        let batch = bars::bars("AAPL", 3);
        sink.write_at(&batch, 1).await.expect("first write");
        let updated = bars::with_close(&batch[1], &format!("100.{threshold}"));
        sink.write_at(&[updated], 1).await.expect("update");
        let stored = rows(&schema).await;
        assert_eq!(stored.len(), 3);
        assert_eq!(stored[1].3, format!("100.{threshold}"));
    }
}

#[tokio::test]
async fn keeps_decimals_exactly_as_written() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    for threshold in [1000, 1] {
        let sink = sink(&schema, threshold).await;
        let mut bar = bars::bars("AAPL", 1).remove(0);
        bar.low = "0.000000000000000001".parse().expect("decimal");
        bar.open = "187.80".parse().expect("decimal");
        bar.close = "12345678901234.56789".parse().expect("decimal");
        bar.high = bar.close;
        bar.volume = "1200.000".parse().expect("decimal");
        sink.write_at(std::slice::from_ref(&bar), 1)
            .await
            .expect("writes");
        let stored = rows(&schema).await;
        assert_eq!(stored[0].1, "2024-05-01T13:30:00");
        assert_eq!(stored[0].2, "187.80");
        assert_eq!(stored[0].3, "12345678901234.56789");
        assert_eq!(stored[0].4, "1200.000");
    }
}

#[tokio::test]
async fn the_last_duplicate_in_a_batch_wins_on_both_paths() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    for threshold in [1000, 1] {
        let sink = sink(&schema, threshold).await;
        let bar = bars::bars("AAPL", 1).remove(0);
        let batch = [
            bars::with_close(&bar, "100.30"),
            bars::with_close(&bar, "100.40"),
        ];
        sink.write_at(&batch, 1).await.expect("writes");
        let stored = rows(&schema).await;
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].3, "100.40");
    }
}

#[tokio::test]
async fn concurrent_writers_all_land() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = Arc::new(sink(&schema, 500).await);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let sink = Arc::clone(&sink);
            tokio::spawn(async move {
                let batch = bars::bars(&format!("S{i}"), if i % 2 == 0 { 1_000 } else { 10 });
                sink.write_at(&batch, 1).await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("write");
    }
    assert_eq!(rows(&schema).await.len(), 4 * 1_000 + 4 * 10);
}

#[tokio::test]
async fn bad_data_is_a_permanent_error_and_the_sink_carries_on() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    for threshold in [1000, 1] {
        let sink = sink(&schema, threshold).await;
        let mut bar = bars::bars("AAPL", 1).remove(0);
        bar.symbol = "NUL\0BYTE".to_owned();
        let err = sink
            .write_at(&[bar], 1)
            .await
            .expect_err("NUL is not valid text");
        assert!(matches!(err, SinkError::Permanent(_)), "{err}");
        sink.write_at(&bars::bars("OK", 2), 1)
            .await
            .expect("next write works");
    }
}

#[tokio::test]
async fn opens_from_a_url_with_the_schema_option() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = open_sink(
        &schema.url,
        &SinkOptions {
            postgres: options(&schema, 1000),
            ..SinkOptions::default()
        },
    )
    .await
    .expect("opens");
    assert_eq!(sink.name(), "postgres");
    sink.write_at(&bars::bars("AAPL", 2), 1)
        .await
        .expect("writes");
    assert_eq!(rows(&schema).await.len(), 2);
}

#[tokio::test]
async fn an_unreachable_server_is_a_transient_error() {
    let err = open_sink("postgres://root@127.0.0.1:1/test", &SinkOptions::default())
        .await
        .map(|_| ())
        .expect_err("nothing listens on port 1");
    match err {
        OpenSinkError::Open { source, .. } => assert!(source.is_retryable(), "{source}"),
        other => panic!("expected an Open error, got {other}"),
    }
}

#[tokio::test]
async fn a_bad_url_is_a_clear_start_up_error_without_the_password() {
    let err = open_sink(
        "postgres://u:hunter2@h:notaport/db",
        &SinkOptions::default(),
    )
    .await
    .map(|_| ())
    .expect_err("bad port");
    let text = err.to_string();
    assert!(matches!(err, OpenSinkError::InvalidUrl { .. }), "{text}");
    assert!(
        text.contains("DATABASE_URL") && !text.contains("hunter2"),
        "{text}"
    );
}

#[tokio::test]
async fn an_invalid_schema_name_is_refused() {
    let options = PostgresOptions {
        schema: "no-dashes".to_owned(),
        ..PostgresOptions::default()
    };
    let config = tokio_postgres::Config::from_str(&pg::url()).expect("valid url");
    let err = PostgresSink::connect(config, options)
        .await
        .expect_err("invalid identifier");
    assert!(err.to_string().contains("no-dashes"), "{err}");
}

#[tokio::test]
async fn bars_a_microsecond_apart_at_most_are_one_row_and_the_last_one_wins_on_both_paths() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let base = bars::bars("AAPL", 3);
    let mut close_by = base[1].clone();
    close_by.ts += chrono::Duration::nanoseconds(500);
    let batch = vec![
        base[0].clone(),
        base[1].clone(),
        bars::with_close(&close_by, "250.50"),
        base[2].clone(),
    ];
    for copy_threshold in [1000, 1] {
        sink(&schema, copy_threshold)
            .await
            .write_at(&batch, 1)
            .await
            .expect("one row per stored key: no row is touched twice");
        let rows = rows(&schema).await;
        assert_eq!(rows.len(), 3, "copy_threshold {copy_threshold}");
        assert_eq!(rows[1].3, "250.50", "the last bar in batch order wins");
        schema
            .client()
            .await
            .batch_execute(&format!("TRUNCATE {}", schema.table("bars")))
            .await
            .expect("truncate");
    }
}

/// `(symbol, close, revision)` of every row.
async fn revised_rows(schema: &pg::TestSchema) -> Vec<(String, String, i64)> {
    let client = schema.client().await;
    let sql = format!(
        "SELECT symbol, close::text, revision FROM {} ORDER BY symbol, ts",
        schema.table("bars")
    );
    client
        .query(&sql, &[])
        .await
        .expect("query")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn keeps_the_newest_revision_whatever_order_inserts_arrive_in() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = sink(&schema, 1000).await;
    revisions::write_all(&sink).await;
    revisions::check(&revised_rows(&schema).await);
}

#[tokio::test]
async fn keeps_the_newest_revision_whatever_order_copies_arrive_in() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = sink(&schema, 1).await;
    revisions::write_all(&sink).await;
    revisions::check(&revised_rows(&schema).await);
}

#[tokio::test]
async fn migrates_a_table_without_revisions_and_keeps_its_rows() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let client = schema.client().await;
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{}\";
             CREATE TABLE {table} (
                 provider TEXT NOT NULL, symbol TEXT NOT NULL, resolution TEXT NOT NULL,
                 ts TIMESTAMPTZ NOT NULL, open NUMERIC NOT NULL, high NUMERIC NOT NULL,
                 low NUMERIC NOT NULL, close NUMERIC NOT NULL, volume NUMERIC NOT NULL,
                 delayed BOOLEAN NOT NULL DEFAULT FALSE,
                 PRIMARY KEY (provider, symbol, resolution, ts)
             );
             INSERT INTO {table} VALUES ('test', 'OLD', '1m', '2024-05-01T13:30:00Z',
                 1, 2, 1, 1.50, 10, FALSE);",
            schema.name,
            table = schema.table("bars")
        ))
        .await
        .expect("old table");

    for copy_threshold in [1000, 1] {
        let sink = sink(&schema, copy_threshold).await;
        assert_eq!(
            revised_rows(&schema).await,
            [("OLD".to_owned(), "1.50".to_owned(), 0)],
            "old rows kept at revision 0"
        );
        sink.write_at(&[bars::with_close(&bars::bars("OLD", 1)[0], "1.50")], 0)
            .await
            .expect("an equal revision rewrites");
    }
    let sink = sink(&schema, 1).await;
    let bar = bars::with_close(&bars::bars("OLD", 1)[0], "2.50");
    sink.write_at(&[bar], 1).await.expect("writes");
    assert_eq!(
        revised_rows(&schema).await,
        [("OLD".to_owned(), "2.50".to_owned(), 1)],
        "any revision outranks an old row"
    );
}
