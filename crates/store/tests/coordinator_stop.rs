//! A stop with a grace period returns on time whatever the sink and the dead-letter file are
//! doing, and settles every bar not written as asked: dead-lettered, or abandoned to its source.

mod support;

use std::sync::Arc;
use std::time::Duration;

use core_contracts::Bar;
use store::coordinator::{Leftover, WriteCoordinator};
use store::dead_letter::read_records;
use store::sink::{MemorySink, SinkError};
use support::faults::{Outcomes, break_dead_letters, tagged, ticket};
use support::{bars, config};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn stop_within_abandons_what_a_down_sink_did_not_take() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::new());
    sink.set_failing(Some(SinkError::Transient("down".into())));
    let outcomes = Arc::new(Outcomes::default());
    let coord = WriteCoordinator::builder(config(dir.path(), 2, 10), sink.clone())
        .on_outcome(outcomes.callback())
        .start()
        .expect("valid config");
    coord
        .submit_tagged(tagged(bars(100)))
        .await
        .expect("accepted");
    let started = Instant::now();
    let stats = coord
        .stop_within(Duration::from_secs(5), Leftover::Abandon)
        .await;
    assert!(started.elapsed() >= Duration::from_secs(5));
    assert!(
        started.elapsed() <= Duration::from_secs(5 + 5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        (
            stats.submitted,
            stats.written,
            stats.dead_lettered,
            stats.abandoned,
            stats.lost
        ),
        (100, 0, 0, 100, 0)
    );
    assert!(outcomes.tickets(true).is_empty() && outcomes.tickets(false).is_empty());
    assert!(!dir.path().join("dead-letters.ndjson").exists());
}

#[tokio::test(start_paused = true)]
async fn stop_within_dead_letters_what_a_down_sink_did_not_take() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::new());
    sink.set_failing(Some(SinkError::Transient("down".into())));
    let outcomes = Arc::new(Outcomes::default());
    let coord = WriteCoordinator::builder(config(dir.path(), 2, 10), sink.clone())
        .on_outcome(outcomes.callback())
        .start()
        .expect("valid config");
    coord
        .submit_tagged(tagged(bars(100)))
        .await
        .expect("accepted");
    let started = Instant::now();
    let stats = coord
        .stop_within(Duration::from_secs(5), Leftover::DeadLetter)
        .await;
    assert!(
        started.elapsed() <= Duration::from_secs(5 + 5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        (
            stats.written,
            stats.dead_lettered,
            stats.abandoned,
            stats.lost
        ),
        (0, 100, 0, 0)
    );
    let mut all: Vec<_> = (0..100).map(ticket).collect();
    all.sort();
    assert_eq!(outcomes.tickets(true), all);
    let records = read_records(&dir.path().join("dead-letters.ndjson"))
        .await
        .expect("readable");
    assert!(records.iter().all(|r| r.error_type == "stopped"));
    let mut keys: Vec<_> = records
        .iter()
        .flat_map(|r| r.items.iter().map(Bar::key))
        .collect();
    keys.sort();
    assert_eq!(keys, bars(100).iter().map(Bar::key).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn stop_within_returns_on_time_with_a_hung_sink_and_a_broken_dead_letter_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sub = dir.path().join("sub");
    let sink = Arc::new(MemorySink::with_throttle(Duration::from_secs(86_400)));
    let mut cfg = config(dir.path(), 2, 10);
    cfg.dead_letter_path = sub.join("dead-letters.ndjson");
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .start()
        .expect("valid config");
    coord.submit_many(bars(50)).await.expect("accepted");
    break_dead_letters(&sub, true);
    let started = Instant::now();
    let stats = coord
        .stop_within(Duration::from_secs(2), Leftover::DeadLetter)
        .await;
    assert!(
        started.elapsed() <= Duration::from_secs(2 + 5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        (stats.written, stats.dead_lettered, stats.lost),
        (0, 0, 50),
        "counted lost, not silently"
    );
}
