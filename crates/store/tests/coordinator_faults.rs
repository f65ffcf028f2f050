//! Faults end in bounded time and lose nothing on the default settings: a sink outage is waited
//! out by the breaker's own probes, a poison bar is bisected out alone with its ticket, a
//! failing dead-letter file is retried (HARD meanwhile) instead of restarting workers, and a
//! stop with a grace period returns on time whatever the sink and the file are doing.

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use core_contracts::{BackpressureLevel, Bar, HealthState};
use store::coordinator::{
    BatchOutcome, CoordinatorConfig, CoordinatorError, Leftover, Ticket, WriteCoordinator,
};
use store::dead_letter::read_records;
use store::feedback::FeedbackBus;
use store::sink::{MemorySink, SinkError};
use support::{bar, bars, config};
use tokio::time::Instant;

/// Every reported outcome as `(dead_lettered, error_type, tickets)`.
#[derive(Default)]
struct Outcomes(Mutex<Vec<(bool, String, Vec<Option<Ticket>>)>>);

impl Outcomes {
    fn callback(self: &Arc<Self>) -> impl Fn(BatchOutcome<'_>) + Send + Sync + 'static {
        let this = Arc::clone(self);
        move |outcome| {
            assert_eq!(outcome.bars().len(), outcome.tickets().len());
            let kind = match outcome {
                BatchOutcome::Written { .. } => String::new(),
                BatchOutcome::DeadLettered { error_type, .. } => error_type.to_owned(),
            };
            this.0.lock().unwrap_or_else(PoisonError::into_inner).push((
                outcome.is_dead_lettered(),
                kind,
                outcome.tickets().to_vec(),
            ));
        }
    }

    /// The tickets reported written, or dead-lettered, sorted.
    fn tickets(&self, dead_lettered: bool) -> Vec<Option<Ticket>> {
        let mut out: Vec<_> = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(dead, _, _)| *dead == dead_lettered)
            .flat_map(|(_, _, t)| t.clone())
            .collect();
        out.sort();
        out
    }

    fn kinds(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(dead, _, _)| *dead)
            .map(|(_, kind, _)| kind.clone())
            .collect()
    }
}

fn tagged(bars: Vec<Bar>) -> Vec<(Bar, Ticket)> {
    bars.into_iter()
        .enumerate()
        .map(|(i, bar)| (bar, Ticket::from(format!("entry-{i:04}"))))
        .collect()
}

fn ticket(i: usize) -> Option<Ticket> {
    Some(Ticket::from(format!("entry-{i:04}")))
}

fn default_config(dir: &Path) -> CoordinatorConfig {
    CoordinatorConfig::new("test-coord", dir.join("dead-letters.ndjson"))
}

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

/// Makes appends to `dir/sub/dead-letters.ndjson` fail (a file where the directory was),
/// or work again.
fn break_dead_letters(sub: &Path, broken: bool) {
    if broken {
        std::fs::remove_dir_all(sub).expect("removed");
        std::fs::write(sub, b"in the way").expect("written");
    } else {
        std::fs::remove_file(sub).expect("removed");
    }
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
