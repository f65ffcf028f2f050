//! The PostgreSQL sink's pool against the shared test server: a write takes whichever
//! session is free, so one stuck on a row lock holds up no other; a session the server kills
//! is replaced. Each test has a schema of its own and names its sessions by it
//! (`application_name`), so it can find them in `pg_stat_activity`.

#[path = "support/bars.rs"]
mod bars;
#[path = "support/postgres.rs"]
mod pg;

use std::num::NonZeroUsize;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bars::WriteAt;
use pulse::testing::wait_for;
use store::config::PostgresOptions;
use store::sink::{PostgresSink, Sink};

/// A sink of `pool_size` sessions whose `application_name` is the schema's name.
async fn pooled_sink(schema: &pg::TestSchema, pool_size: usize) -> PostgresSink {
    let separator = if schema.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}application_name={}", schema.url, schema.name);
    let config = tokio_postgres::Config::from_str(&url).expect("valid url");
    let options = PostgresOptions {
        schema: schema.name.clone(),
        pool_size: NonZeroUsize::new(pool_size).expect("non-zero"),
        ..PostgresOptions::default()
    };
    PostgresSink::connect(config, options)
        .await
        .expect("connects")
}

/// Sessions of `application_name` waiting on a lock.
async fn waiting_on_a_lock(client: &tokio_postgres::Client, application_name: &str) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = $1 AND wait_event_type = 'Lock'",
            &[&application_name],
        )
        .await
        .expect("pg_stat_activity readable")
        .get(0)
}

async fn backend_pids(client: &tokio_postgres::Client, application_name: &str) -> Vec<i32> {
    client
        .query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
            &[&application_name],
        )
        .await
        .expect("pg_stat_activity readable")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn a_write_waiting_on_a_row_lock_holds_up_no_write_of_another_key() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = Arc::new(pooled_sink(&schema, 2).await);
    let held = bars::bars("HELD", 1).remove(0);
    sink.write_at(std::slice::from_ref(&held), 1)
        .await
        .expect("first write");

    let locker = schema.client().await;
    locker.batch_execute("BEGIN").await.expect("begin");
    locker
        .execute(
            &format!(
                "SELECT 1 FROM {} WHERE symbol = 'HELD' FOR UPDATE",
                schema.table("bars")
            ),
            &[],
        )
        .await
        .expect("row locked");
    let blocked = tokio::spawn({
        let sink = Arc::clone(&sink);
        let update = bars::with_close(&held, "123.45");
        async move { sink.write_at(&[update], 2).await }
    });
    let observer = schema.client().await;
    assert!(
        wait_for(Duration::from_secs(10), || async {
            waiting_on_a_lock(&observer, &schema.name).await == 1
        })
        .await,
        "the update never waited on the row lock"
    );

    // Round-robin slots would have put one of these behind the blocked write.
    for i in 0..4 {
        tokio::time::timeout(
            Duration::from_secs(10),
            sink.write_at(&bars::bars(&format!("FREE{i}"), 10), 1),
        )
        .await
        .expect("a free session takes the write")
        .expect("writes");
    }
    assert!(!blocked.is_finished(), "the held write still waits");

    locker.batch_execute("COMMIT").await.expect("commit");
    blocked
        .await
        .expect("task")
        .expect("the held write completes once the lock is gone");
    let closes: Vec<(String, String)> = observer
        .query(
            &format!(
                "SELECT symbol, close::text FROM {} WHERE ts = $1 ORDER BY symbol",
                schema.table("bars")
            ),
            &[&held.ts],
        )
        .await
        .expect("query")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let expected_free = bars::bars("FREE0", 1).remove(0).close.to_string();
    let mut expected: Vec<(String, String)> = (0..4)
        .map(|i| (format!("FREE{i}"), expected_free.clone()))
        .collect();
    expected.push(("HELD".to_owned(), "123.45".to_owned()));
    assert_eq!(closes, expected);
}

#[tokio::test]
async fn a_session_the_server_kills_is_replaced_after_at_most_one_transient_error() {
    let Some(schema) = pg::TestSchema::new().await else {
        return;
    };
    let sink = pooled_sink(&schema, 2).await;
    sink.write_at(&bars::bars("BEFORE", 2), 1)
        .await
        .expect("first write");
    let admin = schema.client().await;
    let killed = backend_pids(&admin, &schema.name).await;
    assert!(!killed.is_empty(), "the sink holds a session");
    for pid in &killed {
        let gone: bool = admin
            .query_one("SELECT pg_terminate_backend($1, 10000)", &[pid])
            .await
            .expect("terminate")
            .get(0);
        assert!(gone, "backend {pid} terminated");
    }

    let after = bars::bars("AFTER", 3);
    if let Err(first) = sink.write_at(&after, 1).await {
        assert!(first.is_retryable(), "a lost session is transient: {first}");
        sink.write_at(&after, 1)
            .await
            .expect("the next write gets a new session");
    }
    let now = backend_pids(&admin, &schema.name).await;
    assert!(
        !now.is_empty() && now.iter().all(|pid| !killed.contains(pid)),
        "new sessions {now:?}, killed {killed:?}"
    );
    let symbols: Vec<(String, i64)> = admin
        .query(
            &format!(
                "SELECT symbol, count(*) FROM {} GROUP BY symbol ORDER BY symbol",
                schema.table("bars")
            ),
            &[],
        )
        .await
        .expect("query")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(symbols, [("AFTER".to_owned(), 3), ("BEFORE".to_owned(), 2)]);
    assert!(sink.ready().await);
}
