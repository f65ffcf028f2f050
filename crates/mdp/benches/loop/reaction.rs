//! Feedback reaction time: from a watermark crossing's event entering the store's
//! `FeedbackBus` (what the queue does when it crosses a watermark) to the new rate in force
//! on the pipeline's `RateCoordinator`.
//!
//! The path is `mdp run`'s: the bus's attached `PulseFeedbackPublisher`, the Pulse backend,
//! the pipeline's `FeedbackConsumer`, `FeedbackHandler` and `RateCoordinatorAdapter`; the
//! adapter is wrapped to timestamp the moment `apply` has set the new scale. Samples
//! alternate hard (scale 0) and ok (scale 1), one at a time with a millisecond between them.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use core_contracts::{
    BackpressureLevel, BoxError, FeedbackEvent, RateAdjustment, RateController, TokioClock,
};
use pipeline::{
    FeedbackConsumer, FeedbackHandler, PipelineMetrics, PipelineSettings, PulseAdjustmentSink,
    RateCoordinator, RateCoordinatorAdapter,
};
use pulse::backend::memory::InMemoryBus;
use pulse::{BackendKind, CancellationToken, Pulse, PulseConfig};
use store::config::StoreSettings;
use store::feedback::FeedbackBus;
use store::service::StoreSide;
use store::sink::MemorySink;
use tokio::runtime::Runtime;

use crate::summary::{Summary, percentile};

/// The coordinator whose crossings are simulated.
const COORDINATOR: &str = "bench-reaction";
const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379/0";

/// The adapter, telling when each adjustment is in force.
struct Stamped {
    inner: RateCoordinatorAdapter,
    applied: Sender<(f64, Instant)>,
}

#[async_trait]
impl RateController for Stamped {
    async fn apply(&self, adjustment: RateAdjustment) -> Result<(), BoxError> {
        let scale = adjustment.scale;
        self.inner.apply(adjustment).await?;
        let _ = self.applied.send((scale, Instant::now()));
        Ok(())
    }
}

/// Measures the in-memory backend, then Redis when reachable.
pub(crate) fn measure(rt: &Runtime, summary: &mut Summary, samples: usize) {
    let memory = Pulse::new(Arc::new(InMemoryBus::new()), PulseConfig::default());
    record(summary, "inmem", run(rt, memory, samples));

    let url = std::env::var("MDP_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.into());
    let reachable = redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(1)))
        .is_ok();
    if !reachable {
        eprintln!(
            "\n!!!!! SKIPPING the Redis feedback reaction time: {} unreachable !!!!!\n",
            pulse::redact_url(&url)
        );
        return;
    }
    let prefix = format!("mdpbench{}:", uuid::Uuid::new_v4().simple());
    let config = PulseConfig {
        backend: BackendKind::Redis,
        redis_url: url.clone(),
        key_prefix: prefix.clone(),
        ..PulseConfig::default()
    };
    let redis = rt
        .block_on(Pulse::from_config(config))
        .expect("connects to redis");
    let latencies = run(rt, redis, samples / 2);
    delete_keys(&url, &prefix);
    record(summary, "redis", latencies);
}

fn record(summary: &mut Summary, backend: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let us = |p| percentile(&latencies, p).as_secs_f64() * 1e6;
    let (p50, p99) = (us(0.50), us(0.99));
    println!(
        "{backend} feedback reaction: p50 {p50:.0} us, p99 {p99:.0} us over {} samples",
        latencies.len()
    );
    summary.value(&format!("{backend} feedback reaction p50 (us)"), p50);
    summary.value(&format!("{backend} feedback reaction p99 (us)"), p99);
}

/// The running loop: a store side publishing its feedback on `pulse`, and the pipeline's
/// consumer, handler and rate coordinator on the other end.
struct Loop {
    store: StoreSide,
    consumer: tokio::task::JoinHandle<pulse::RunnerReport>,
    ticker: tokio::task::JoinHandle<()>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

fn start(pulse: Pulse, applied: Sender<(f64, Instant)>) -> Loop {
    let settings = PipelineSettings::from_lookup(&|_| None).expect("default settings");
    let rates = Arc::new(RateCoordinator::with_clock(
        Arc::new(TokioClock::new()),
        PipelineMetrics::default(),
    ));
    rates
        .register_provider(&settings.feedback.provider_name, settings.rate.clone())
        .expect("registers the provider");
    let controller = Arc::new(Stamped {
        inner: RateCoordinatorAdapter::new(rates),
        applied,
    });
    let handler = Arc::new(FeedbackHandler::new(
        &settings.feedback,
        controller,
        Arc::new(PulseAdjustmentSink::new(pulse.clone())),
    ));
    let ticker = handler.spawn_ticker();
    let shutdown = CancellationToken::new();
    let consumer =
        FeedbackConsumer::new(pulse.clone(), handler, "bench-reaction").spawn(shutdown.clone());
    let dir = tempfile::tempdir().expect("temp dir");
    let store = StoreSide::start(
        "bench-store",
        &StoreSettings::default(),
        &dir.path().join("dead-letters.ndjson"),
        Arc::new(MemorySink::new()),
        pulse,
        Default::default(),
        shutdown.clone(),
    )
    .expect("starts the store side");
    Loop {
        store,
        consumer,
        ticker,
        shutdown,
        _dir: dir,
    }
}

/// `samples` reaction times on `pulse`, after a warm-up.
fn run(rt: &Runtime, pulse: Pulse, samples: usize) -> Vec<Duration> {
    let (tx, applied) = std::sync::mpsc::channel();
    let running = rt.block_on(async { start(pulse, tx) });
    let feedback = running.store.feedback.clone();
    let mut seq = 0;
    // The consumer group may not exist yet: publish until the first event is applied.
    let ready = (0..50).any(|_| {
        react(
            &feedback,
            &applied,
            &mut seq,
            true,
            Duration::from_millis(200),
        )
        .is_some()
    });
    assert!(ready, "the feedback loop never reacted");
    let mut latencies = Vec::with_capacity(samples);
    for i in 0..samples + 20 {
        std::thread::sleep(Duration::from_millis(1));
        let hard = i % 2 == 1;
        let latency = react(&feedback, &applied, &mut seq, hard, Duration::from_secs(10))
            .expect("the new rate comes into force");
        if i >= 20 {
            latencies.push(latency);
        }
    }
    rt.block_on(async {
        running.shutdown.cancel();
        running.ticker.abort();
        let _ = running.consumer.await;
        running
            .store
            .stop_within(
                std::time::Duration::from_secs(120),
                store::coordinator::Leftover::DeadLetter,
            )
            .await;
    });
    latencies
}

/// Publishes a crossing to hard (or back to ok) and waits up to `timeout` for its scale to be
/// in force; the time between the two.
fn react(
    feedback: &FeedbackBus,
    applied: &Receiver<(f64, Instant)>,
    seq: &mut u64,
    hard: bool,
    timeout: Duration,
) -> Option<Duration> {
    while applied.try_recv().is_ok() {}
    *seq += 1;
    let (level, depth, reason, scale) = if hard {
        (BackpressureLevel::Hard, 8_200, "queue_high_watermark", 0.0)
    } else {
        (BackpressureLevel::Ok, 5_000, "queue_low_watermark", 1.0)
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let event = FeedbackEvent::new(COORDINATOR, depth, 10_000, level, now)
        .expect("valid event")
        .with_reason(reason)
        .with_seq(*seq);
    let published = Instant::now();
    feedback.publish(event);
    let deadline = published + timeout;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        let (got, at) = applied.recv_timeout(left).ok()?;
        if got == scale
            && let Some(latency) = at.checked_duration_since(published)
        {
            return Some(latency);
        }
    }
}

fn delete_keys(url: &str, prefix: &str) {
    let Ok(mut conn) = redis::Client::open(url).and_then(|c| c.get_connection()) else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query(&mut conn)
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
    }
}
