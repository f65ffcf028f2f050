//! Faults end in bounded time and lose nothing on the default settings: a sink outage is waited
//! out by the breaker's own probes, a poison bar is bisected out alone with its ticket, and a
//! failing dead-letter file is retried (HARD meanwhile) instead of restarting workers.

mod support;

use std::sync::Arc;
use std::time::Duration;

use core_contracts::{BackpressureLevel, HealthState};
use store::coordinator::{CoordinatorConfig, CoordinatorError, WriteCoordinator};
use store::dead_letter::read_records;
use store::feedback::FeedbackBus;
use store::sink::{MemorySink, SinkError};
use support::faults::{Outcomes, break_dead_letters, default_config, tagged, ticket};
use support::{bar, bars, config};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_poison_bar_is_bisected_out_alone_with_its_ticket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::new());
    sink.reject(bar(123).key());
    let outcomes = Arc::new(Outcomes::default());
    let coord = WriteCoordinator::builder(default_config(dir.path()), sink.clone())
        .on_outcome(outcomes.callback())
        .start()
        .expect("valid config");
    coord
        .submit_tagged(tagged(bars(500)))
        .await
        .expect("accepted");
    let stats = coord.stop(true).await;

    assert_eq!((stats.written, stats.dead_lettered), (499, 1));
    assert_eq!(sink.len(), 499);
    assert_eq!(outcomes.tickets(true), vec![ticket(123)]);
    let mut written: Vec<_> = (0..500).filter(|&i| i != 123).map(ticket).collect();
    written.sort();
    assert_eq!(outcomes.tickets(false), written, "each other ticket once");
    let records = read_records(&dir.path().join("dead-letters.ndjson"))
        .await
        .expect("readable");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].items, vec![bar(123)]);
}

#[tokio::test(start_paused = true)]
async fn a_minute_long_outage_is_waited_out_by_the_breakers_own_probe() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::new());
    sink.set_failing(Some(SinkError::Transient("connection refused".into())));
    let bus = FeedbackBus::new();
    let mut events = bus.subscribe("test");
    let coord = WriteCoordinator::builder(default_config(dir.path()), sink.clone())
        .bus(bus.clone())
        .start()
        .expect("valid config");
    let started = Instant::now();
    coord
        .submit_tagged(tagged(bars(2_000)))
        .await
        .expect("accepted");
    let recovery = {
        let sink = Arc::clone(&sink);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            sink.set_failing(None);
        })
    };

    let opened = events.recv().await.expect("event");
    assert_eq!(
        (opened.level, opened.reason.as_deref()),
        (BackpressureLevel::Hard, Some("circuit_open"))
    );
    assert!(!coord.is_writable());
    assert_eq!(coord.health().await.state, HealthState::Unhealthy);
    let closed = loop {
        let event = events.recv().await.expect("event");
        if event.reason.as_deref() == Some("circuit_closed") {
            break event;
        }
    };
    recovery.await.expect("recovery task");
    assert!(
        started.elapsed() <= Duration::from_secs(60 + 60),
        "closed within one half-open period after the recovery: {:?}",
        started.elapsed()
    );
    assert_eq!(closed.level, BackpressureLevel::Ok);
    assert!(coord.is_writable());

    let stats = coord.stop(true).await;
    assert_eq!(sink.len(), 2_000);
    assert_eq!(
        (stats.written, stats.dead_lettered, stats.lost),
        (2_000, 0, 0)
    );
    assert!(!dir.path().join("dead-letters.ndjson").exists());
}

#[tokio::test(start_paused = true)]
async fn the_give_up_deadline_dead_letters_a_batch_that_keeps_failing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::new());
    sink.set_failing(Some(SinkError::Transient("timeout".into())));
    let outcomes = Arc::new(Outcomes::default());
    let mut cfg = config(dir.path(), 1, 10);
    cfg.retry.give_up_after = Some(Duration::from_secs(30));
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .on_outcome(outcomes.callback())
        .start()
        .expect("valid config");
    let started = Instant::now();
    coord
        .submit_tagged(tagged(bars(10)))
        .await
        .expect("accepted");
    let stats = coord.stop(true).await;
    assert!(started.elapsed() >= Duration::from_secs(30));
    assert!(started.elapsed() <= Duration::from_secs(32));
    assert_eq!((stats.written, stats.dead_lettered), (0, 10));
    assert_eq!(outcomes.kinds(), vec!["transient".to_owned()]);
    let records = read_records(&dir.path().join("dead-letters.ndjson"))
        .await
        .expect("readable");
    assert_eq!(records[0].error_type, "transient");
}

#[tokio::test]
async fn start_fails_naming_a_dead_letter_file_that_cannot_be_opened() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").expect("written");
    let path = not_a_dir.join("dead-letters.ndjson");
    let err = WriteCoordinator::builder(
        CoordinatorConfig::new("c", &path),
        Arc::new(MemorySink::new()),
    )
    .start()
    .expect_err("unopenable dead-letter file");
    assert!(
        matches!(&err, CoordinatorError::DeadLetterFile { path: p, .. } if *p == path),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );

    let fine = dir.path().join("new-dir").join("dead-letters.ndjson");
    let coord = WriteCoordinator::builder(
        CoordinatorConfig::new("c", &fine),
        Arc::new(MemorySink::new()),
    )
    .start()
    .expect("a missing directory is created");
    assert!(!fine.exists(), "no empty file is left behind");
    coord.stop(true).await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_dead_letter_file_is_retried_under_hard_without_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sub = dir.path().join("sub");
    let sink = Arc::new(MemorySink::new());
    sink.reject(bar(1).key());
    let bus = FeedbackBus::new();
    let mut events = bus.subscribe("test");
    let mut cfg = config(dir.path(), 1, 5);
    cfg.dead_letter_path = sub.join("dead-letters.ndjson");
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .bus(bus.clone())
        .start()
        .expect("valid config");
    break_dead_letters(&sub, true);
    coord.submit_many(bars(5)).await.expect("accepted");

    let failed = events.recv().await.expect("event");
    assert_eq!(
        (failed.level, failed.reason.as_deref()),
        (BackpressureLevel::Hard, Some("dead_letter_failed"))
    );
    assert!(coord.is_dead_letter_failing());
    assert!(!coord.is_writable());
    assert_eq!(coord.current_level(), BackpressureLevel::Hard);
    assert_eq!(coord.health_component().state, HealthState::Unhealthy);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(coord.stats().worker_restarts, 0, "no restart loop");
    assert_eq!(coord.stats().dead_lettered, 0);

    break_dead_letters(&sub, false);
    let recovered = events.recv().await.expect("event");
    assert_eq!(
        (recovered.level, recovered.reason.as_deref()),
        (BackpressureLevel::Ok, Some("dead_letter_recovered"))
    );
    assert!(coord.is_writable());
    let health = coord.health_component();
    assert_eq!(
        health.state,
        HealthState::Degraded,
        "bars were dead-lettered"
    );
    assert_eq!(
        health.details.get("dead_lettered").map(String::as_str),
        Some("1")
    );
    let stats = coord.stop(true).await;
    assert_eq!((stats.written, stats.dead_lettered, stats.lost), (4, 1, 0));
}
