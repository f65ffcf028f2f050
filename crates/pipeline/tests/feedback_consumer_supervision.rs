//! The feedback consumer is supervised: a bus error makes it back off and subscribe again,
//! and the event waiting on the stream is still applied.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use core_contracts::{BackpressureLevel, FeedbackEvent};
use pipeline::config::FeedbackSettings;
use pipeline::feedback::{FeedbackConsumer, FeedbackHandler, GROUP, PulseAdjustmentSink};
use pipeline::rate::{ProviderConfig, RateCoordinator, RateCoordinatorAdapter};
use pulse::backend::memory::InMemoryBus;
use pulse::backend::{DeadLetter, FailPolicy};
use pulse::stream::{FEEDBACK, RATE_ADJUSTMENT};
use pulse::{
    BackendKind, BusError, CancellationToken, EventBus, FailOutcome, Pulse, RawEntry, StreamReader,
};
use support::bus::{test_config, unique_prefix};
use tokio::time::Instant;

/// An in-memory bus whose first `failures` reader openings fail as if Redis were down.
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
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if failing {
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

#[tokio::test(start_paused = true)]
async fn the_consumer_resubscribes_after_bus_errors_and_applies_the_waiting_event() {
    let bus = Arc::new(Flaky {
        inner: InMemoryBus::new(),
        failures: AtomicU32::new(2),
    });
    let pulse = Pulse::new(
        bus.clone(),
        test_config(BackendKind::InMemory, &unique_prefix()),
    );
    let coordinator = Arc::new(RateCoordinator::new());
    coordinator
        .register_provider("ibkr", ProviderConfig::default())
        .expect("registers");
    let handler = Arc::new(FeedbackHandler::new(
        &FeedbackSettings::default(),
        Arc::new(RateCoordinatorAdapter::new(coordinator.clone())),
        Arc::new(PulseAdjustmentSink::new(pulse.clone())),
    ));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs_f64();
    let event = FeedbackEvent::new("bars-coord", 800, 1000, BackpressureLevel::Soft, now)
        .expect("valid event");
    pulse
        .publish(FEEDBACK, &event, Some("bars-coord"))
        .await
        .expect("publishes");

    let stop = CancellationToken::new();
    let task = FeedbackConsumer::new(pulse.clone(), handler, "pipeline-test").spawn(stop.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    let feedback_key = pulse.stream(FEEDBACK).key().to_owned();
    loop {
        let applied_and_acked = coordinator.get_provider_state("ibkr").expect("known").scale == 0.5
            && bus.pending(&feedback_key, GROUP).await.expect("pending") == 0;
        if applied_and_acked {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "event not applied after restarts"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.cancel();
    let report = task.await.expect("consumer task");
    assert_eq!((report.restarts, report.handled), (2, 1), "{report:?}");
    let adjustments = bus
        .len(pulse.stream(RATE_ADJUSTMENT).key())
        .await
        .expect("len");
    assert_eq!(adjustments, 1);
}
