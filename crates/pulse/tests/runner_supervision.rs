//! The consumer runner survives bus errors: it logs, backs off and re-subscribes, and no
//! message is lost.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::{BoxError, EventEnvelope, FeedbackEvent};
use pulse::backend::memory::InMemoryBus;
use pulse::backend::{DeadLetter, FailPolicy};
use pulse::{
    BackendKind, BusError, CancellationToken, ConsumerRunner, EventBus, FailOutcome, Handler,
    Pulse, RawEntry, StreamReader,
};

/// An in-memory bus whose first `failures` reader openings fail.
struct Flaky {
    inner: InMemoryBus,
    failures: AtomicU32,
}

#[async_trait]
impl EventBus for Flaky {
    fn kind(&self) -> &'static str {
        "flaky"
    }
    async fn publish(&self, key: &str, data: &str, maxlen: usize) -> Result<String, BusError> {
        self.inner.publish(key, data, maxlen).await
    }
    async fn publish_batch(
        &self,
        key: &str,
        data: &[String],
        maxlen: usize,
    ) -> Result<Vec<String>, BusError> {
        self.inner.publish_batch(key, data, maxlen).await
    }
    async fn ensure_group(&self, key: &str, group: &str) -> Result<(), BusError> {
        self.inner.ensure_group(key, group).await
    }
    async fn reader(&self) -> Result<Box<dyn StreamReader>, BusError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(BusError::Unavailable("connection refused".into()));
        }
        self.inner.reader().await
    }
    async fn ack(&self, key: &str, group: &str, ids: &[String]) -> Result<(), BusError> {
        self.inner.ack(key, group, ids).await
    }
    async fn touch(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        ids: &[String],
    ) -> Result<(), BusError> {
        self.inner.touch(key, group, consumer, ids).await
    }
    async fn fail(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        id: &str,
        reason: &str,
        policy: FailPolicy,
    ) -> Result<FailOutcome, BusError> {
        self.inner
            .fail(key, group, consumer, id, reason, policy)
            .await
    }
    async fn dead_letter(
        &self,
        key: &str,
        group: &str,
        entry: &RawEntry,
        reason: &str,
        deliveries: u32,
    ) -> Result<(), BusError> {
        self.inner
            .dead_letter(key, group, entry, reason, deliveries)
            .await
    }
    async fn dead_letters(&self, key: &str, count: usize) -> Result<Vec<DeadLetter>, BusError> {
        self.inner.dead_letters(key, count).await
    }
    async fn remove_dead_letters(&self, key: &str, ids: &[String]) -> Result<(), BusError> {
        self.inner.remove_dead_letters(key, ids).await
    }
    async fn len(&self, key: &str) -> Result<u64, BusError> {
        self.inner.len(key).await
    }
    async fn pending(&self, key: &str, group: &str) -> Result<u64, BusError> {
        self.inner.pending(key, group).await
    }
    async fn health(&self) -> BTreeMap<String, String> {
        self.inner.health().await
    }
}

struct Count(AtomicU64);

#[async_trait]
impl Handler<FeedbackEvent> for Count {
    async fn handle(&self, _event: &EventEnvelope<FeedbackEvent>) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn the_runner_restarts_with_backoff_after_bus_errors() {
    let bus = Arc::new(Flaky {
        inner: InMemoryBus::new(),
        failures: AtomicU32::new(3),
    });
    let pulse = Pulse::new(bus, support::test_config(BackendKind::InMemory, "flaky:"));
    for n in 0..5 {
        pulse
            .publish("telemetry.feedback", &support::event(n), None)
            .await
            .expect("publishes");
    }
    let handler = Arc::new(Count(AtomicU64::new(0)));
    let stop = CancellationToken::new();
    let task = tokio::spawn(
        ConsumerRunner::new(
            pulse.clone(),
            "telemetry.feedback",
            "g",
            "c1",
            handler.clone(),
        )
        .run(stop.clone()),
    );
    let started = tokio::time::Instant::now();
    while handler.0.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Three failed openings back off 100 + 200 + 400 ms before the fourth succeeds.
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    stop.cancel();
    let report = task.await.expect("runner ends");
    assert_eq!(report.restarts, 3);
    assert_eq!(report.handled, 5);
}
