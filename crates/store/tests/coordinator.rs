//! Behaviour of the WriteCoordinator: delivery with several workers, retries, dead letters and
//! their replay, supervision, draining stops, feedback and health.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use core_contracts::{BackpressureLevel, HealthState};
use prometheus_client::registry::Registry;
use store::coordinator::{SubmitError, WriteCoordinator};
use store::dead_letter::{read_records, replay};
use store::feedback::FeedbackBus;
use store::queue::OverflowStrategy;
use store::sink::{MemorySink, RevisionGenerator, SinkError};
use store::telemetry::CoordinatorMetrics;
use support::{bar, bars, config, nz};

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn revisions() -> RevisionGenerator {
    RevisionGenerator::new(Arc::new(core_contracts::SystemClock::new()))
}

#[tokio::test(start_paused = true)]
async fn all_items_arrive_with_several_workers() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::new());
    let coord = WriteCoordinator::builder(config(dir.path(), 4, 50), sink.clone())
        .start()
        .expect("valid config");
    coord.submit_many(bars(10_000)).await.expect("accepted");
    let stats = coord.stop(true).await;
    assert_eq!(sink.len(), 10_000);
    assert_eq!(
        (stats.submitted, stats.written, stats.dead_lettered),
        (10_000, 10_000, 0)
    );
    assert!(sink.batches_written() >= 200, "batches of at most 50");
}

#[tokio::test(start_paused = true)]
async fn batches_flush_by_time_when_not_full() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::new());
    let coord = WriteCoordinator::builder(config(dir.path(), 1, 100), sink.clone())
        .start()
        .expect("valid config");
    coord.submit_many(bars(3)).await.expect("accepted");
    tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    assert_eq!(
        sink.len(),
        3,
        "written after flush_interval (20 ms) without a full batch"
    );
    assert_eq!(sink.batches_written(), 1);
    coord.stop(true).await;
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::new());
    sink.fail_next((0..3).map(|_| SinkError::Transient("connection reset".into())));
    let coord = WriteCoordinator::builder(config(dir.path(), 1, 10), sink.clone())
        .start()
        .expect("valid config");
    coord.submit_many(bars(10)).await.expect("accepted");
    let stats = coord.stop(true).await;
    assert_eq!(sink.len(), 10);
    assert_eq!(sink.write_calls(), 4, "three failures, then success");
    assert_eq!(stats.dead_lettered, 0);
    assert!(!dir.path().join("dead-letters.ndjson").exists());
}

#[tokio::test(start_paused = true)]
async fn permanent_failures_dead_letter_only_the_offending_bar_and_replay_writes_it() {
    let dir = tempdir();
    let path = dir.path().join("dead-letters.ndjson");
    let sink = Arc::new(MemorySink::new());
    sink.reject(bar(2).key());
    let coord = WriteCoordinator::builder(config(dir.path(), 1, 5), sink.clone())
        .start()
        .expect("valid config");
    let submitted = bars(5);
    coord
        .submit_many(submitted.clone())
        .await
        .expect("accepted");
    let stats = coord.stop(true).await;
    assert_eq!(
        (stats.written, stats.dead_lettered),
        (4, 1),
        "the batch is bisected down to the poison bar"
    );
    assert_eq!(sink.len(), 4);
    assert!(!sink.contains(&bar(2).key()));

    let records = read_records(&path).await.expect("readable");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].items, vec![bar(2)], "lossless");
    assert_eq!(records[0].error_type, "permanent");
    assert!(records[0].error.contains("rejected"));
    assert_eq!(records[0].attempts, 1, "permanent errors are not retried");
    assert_eq!(records[0].revisions.as_ref().map(Vec::len), Some(1));

    let target = MemorySink::new();
    let report = replay(&path, &target, &revisions())
        .await
        .expect("replayed");
    assert_eq!((report.records_replayed, report.bars_written), (1, 1));
    assert!(report.is_complete());
    assert_eq!(target.bars(), vec![bar(2)]);
    assert!(!path.exists(), "a fully replayed file is removed");
}

#[tokio::test]
async fn replay_keeps_what_fails_again() {
    let dir = tempdir();
    let path = dir.path().join("dl.ndjson");
    let file = store::dead_letter::DeadLetterFile::new(&path);
    for i in 0..2 {
        let record = store::dead_letter::DeadLetterRecord::new(
            "c",
            "boom",
            "permanent",
            1,
            vec![bar(i)],
            1.0,
        );
        file.append(&record).await.expect("appended");
    }
    let target = MemorySink::new();
    target.fail_next([SinkError::Transient("down".into())]);
    let report = replay(&path, &target, &revisions())
        .await
        .expect("replayed");
    assert_eq!((report.records_replayed, report.records_failed), (1, 1));
    assert_eq!(
        read_records(&path).await.expect("readable")[0].items,
        vec![bar(0)]
    );
    let report = replay(&path, &target, &revisions())
        .await
        .expect("replayed");
    assert!(report.is_complete());
    assert_eq!(target.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn breaker_opens_emits_hard_probes_once_and_closes() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::new());
    sink.set_failing(Some(SinkError::Transient("sink down".into())));
    let bus = FeedbackBus::new();
    let mut events = bus.subscribe("test");
    let cfg = config(dir.path(), 3, 1);
    let metrics = CoordinatorMetrics::default();
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .bus(bus.clone())
        .metrics(metrics.clone())
        .start()
        .expect("valid config");
    tokio::task::yield_now().await; // let the workers start
    assert_eq!(coord.workers_alive(), 3);
    assert_eq!(coord.health().await.state, HealthState::Healthy);
    coord.submit_many(bars(3)).await.expect("accepted");

    let opened = events.recv().await.expect("event");
    assert_eq!(opened.level, BackpressureLevel::Hard);
    assert_eq!(opened.reason.as_deref(), Some("circuit_open"));
    assert_eq!(
        sink.write_calls(),
        5,
        "opens after five consecutive failures"
    );
    assert_eq!(coord.circuit_state().as_str(), "open");
    assert_eq!(coord.current_level(), BackpressureLevel::Hard);
    assert_eq!(
        coord.current_event().reason.as_deref(),
        Some("circuit_open")
    );
    assert_eq!(
        coord.health().await.state,
        HealthState::Unhealthy,
        "cannot write while the breaker is open"
    );
    assert!(!coord.is_writable());
    let opened_at = tokio::time::Instant::now();

    // The probe after 60 s fails: one write only, although three workers wait.
    let reopened = events.recv().await.expect("event");
    assert_eq!(reopened.reason.as_deref(), Some("circuit_open"));
    assert!(opened_at.elapsed() >= std::time::Duration::from_secs(60));
    assert_eq!(sink.write_calls(), 6, "a single probe");
    assert!(reopened.seq > opened.seq);

    sink.set_failing(None);
    let closed = events.recv().await.expect("event");
    assert_eq!(closed.level, BackpressureLevel::Ok);
    assert_eq!(closed.reason.as_deref(), Some("circuit_closed"));
    assert!(opened_at.elapsed() >= std::time::Duration::from_secs(120));
    assert_eq!(coord.circuit_state().as_str(), "closed");

    let stats = coord.stop(true).await;
    assert_eq!((sink.len(), stats.written, stats.dead_lettered), (3, 3, 0));
    let mut text = String::new();
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    assert!(text.contains(r#"mds_feedback_events_total{coord_id="test-coord",level="hard"} 2"#));
    assert!(text.contains(r#"mds_coord_circuit_state{coord_id="test-coord"} 0"#));
    assert!(text.contains(r#"mds_worker_write_errors_total{coord_id="test-coord""#));
}

#[tokio::test(start_paused = true)]
async fn stop_with_drain_loses_nothing() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::with_throttle(std::time::Duration::from_millis(
        10,
    )));
    let mut cfg = config(dir.path(), 2, 10);
    cfg.capacity = nz(50);
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .start()
        .expect("valid config");
    let producer = {
        let coord = coord.clone();
        tokio::spawn(async move { coord.submit_many(bars(1_000)).await })
    };
    producer.await.expect("task").expect("accepted");
    let stats = coord.stop(true).await;
    assert_eq!(sink.len(), 1_000);
    assert_eq!(
        (stats.written, stats.dead_lettered, stats.lost),
        (1_000, 0, 0)
    );
    assert!(matches!(
        coord.submit(bar(0)).await,
        Err(SubmitError::Closed { rejected }) if rejected.len() == 1
    ));
}

#[tokio::test(start_paused = true)]
async fn stop_without_drain_dead_letters_the_rest() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::with_throttle(std::time::Duration::from_millis(
        10,
    )));
    let coord = WriteCoordinator::builder(config(dir.path(), 2, 10), sink.clone())
        .start()
        .expect("valid config");
    coord.submit_many(bars(500)).await.expect("accepted");
    tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    let stats = coord.stop(false).await;
    assert_eq!(stats.written + stats.dead_lettered, 500);
    assert!(stats.dead_lettered > 0);
    let records = read_records(&dir.path().join("dead-letters.ndjson"))
        .await
        .expect("readable");
    let mut keys: BTreeSet<_> = sink.bars().iter().map(|b| b.key()).collect();
    for record in &records {
        keys.extend(record.items.iter().map(|b| b.key()));
    }
    assert_eq!(
        keys.len(),
        500,
        "every bar is in the sink or the dead-letter file"
    );
}

#[tokio::test(start_paused = true)]
async fn drop_oldest_dead_letters_the_dropped_bars() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::with_throttle(std::time::Duration::from_millis(
        10,
    )));
    let mut cfg = config(dir.path(), 1, 5);
    cfg.capacity = nz(10);
    cfg.overflow = OverflowStrategy::DropOldest;
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .start()
        .expect("valid config");
    coord.submit_many(bars(100)).await.expect("accepted");
    let stats = coord.stop(true).await;
    assert!(stats.dropped > 0);
    assert_eq!(stats.written + stats.dead_lettered, 100);
    let records = read_records(&dir.path().join("dead-letters.ndjson"))
        .await
        .expect("readable");
    assert!(records.iter().all(|r| r.error_type == "drop_oldest"));
    let dead: usize = records.iter().map(|r| r.items.len()).sum();
    assert_eq!(dead as u64, stats.dropped);
}

#[tokio::test(start_paused = true)]
async fn error_strategy_returns_the_refused_bars() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::with_throttle(std::time::Duration::from_secs(1)));
    let mut cfg = config(dir.path(), 1, 1);
    cfg.capacity = nz(4);
    cfg.overflow = OverflowStrategy::Error;
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .start()
        .expect("valid config");
    let err = coord.submit_many(bars(10)).await.expect_err("full");
    let SubmitError::QueueFull { rejected } = err else {
        panic!("expected QueueFull, got {err:?}");
    };
    assert_eq!(rejected, bars(10)[4..].to_vec());
    coord.stop(true).await;
    assert_eq!(sink.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn invalid_bars_are_refused_up_front() {
    let dir = tempdir();
    let coord = WriteCoordinator::builder(config(dir.path(), 1, 1), Arc::new(MemorySink::new()))
        .start()
        .expect("valid config");
    let mut bad = bars(3);
    bad[1].low = bad[1].high + rust_decimal::Decimal::ONE;
    let err = coord.submit_many(bad).await.expect_err("invalid");
    assert!(
        matches!(err, SubmitError::InvalidBar { index: 1, ref rejected, .. } if rejected.len() == 3)
    );
    assert_eq!(coord.stop(true).await.submitted, 0);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_worker_is_restarted_and_its_batch_dead_lettered() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::new());
    sink.panic_on_next_write();
    let coord = WriteCoordinator::builder(config(dir.path(), 1, 10), sink.clone())
        .start()
        .expect("valid config");
    coord.submit_many(bars(20)).await.expect("accepted");
    let stats = coord.stop(true).await;
    assert_eq!(stats.worker_restarts, 1);
    assert_eq!((stats.written, stats.dead_lettered), (10, 10));
    let records = read_records(&dir.path().join("dead-letters.ndjson"))
        .await
        .expect("readable");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].error_type, "panic");
    assert_eq!(records[0].items, bars(10));
    assert_eq!(sink.bars(), bars(20)[10..].to_vec());
}

#[tokio::test(start_paused = true)]
async fn queue_watermarks_become_feedback_and_heartbeats_restate_the_level() {
    let dir = tempdir();
    let sink = Arc::new(MemorySink::with_throttle(std::time::Duration::from_secs(1)));
    let bus = FeedbackBus::new();
    let mut events = bus.subscribe("test");
    let mut cfg = config(dir.path(), 1, 100);
    cfg.capacity = nz(10);
    cfg.high_watermark = Some(8);
    cfg.low_watermark = Some(4);
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .bus(bus.clone())
        .start()
        .expect("valid config");
    coord.submit_many(bars(9)).await.expect("accepted");
    let soft = events.recv().await.expect("event");
    let hard = events.recv().await.expect("event");
    assert_eq!((soft.level, soft.queue_size), (BackpressureLevel::Soft, 5));
    assert_eq!(
        (hard.level, hard.queue_size, hard.capacity),
        (BackpressureLevel::Hard, 8, 10)
    );
    assert_eq!(hard.coordinator_id, "test-coord");
    assert_eq!(hard.utilization, Some(0.8));

    let beats = bus.current_events();
    assert_eq!(beats.len(), 1);
    assert_eq!(beats[0].level, BackpressureLevel::Hard);
    assert!(beats[0].seq > hard.seq);

    let ok = events.recv().await.expect("event");
    assert_eq!(
        (ok.level, ok.reason.as_deref()),
        (BackpressureLevel::Ok, Some("queue_recovered"))
    );
    coord.stop(true).await;
    assert!(
        bus.current_events().is_empty(),
        "a stopped coordinator sends no heartbeat"
    );
}
