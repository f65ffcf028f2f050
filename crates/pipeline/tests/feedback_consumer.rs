//! The Pulse feedback consumer, on the in-memory bus and on Redis Streams (a real server):
//! events are applied exactly once however often they are delivered, refused adjustments
//! are redelivered and then dead-lettered, and applied adjustments are published.

mod support;

use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use core_contracts::{
    BackpressureLevel, Contract, FeedbackEvent, RateAdjustment, Track, WireEvent,
};
use pipeline::config::FeedbackSettings;
use pipeline::feedback::{
    FeedbackConsumer, FeedbackHandler, GROUP, HandleOutcome, PulseAdjustmentSink,
};
use pipeline::rate::{ProviderConfig, RateCoordinator, RateCoordinatorAdapter};
use pulse::stream::{FEEDBACK, RATE_ADJUSTMENT};
use pulse::{CancellationToken, Delivery, Idempotency, Pulse, Subscription};
use support::RecordingController;
use support::bus::Harness;
use tokio::time::Instant;

const DEADLINE: Duration = Duration::from_secs(10);
const PROVIDER: &str = "ibkr";
const STORE: &str = "bars-coord";

/// A soft report from the store coordinator, stamped now.
fn soft_event() -> FeedbackEvent {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs_f64();
    FeedbackEvent::new(STORE, 800, 1000, BackpressureLevel::Soft, now).expect("valid event")
}

/// A rate coordinator for [`PROVIDER`] and a handler adjusting it, publishing to `pulse`.
fn coordinated_handler(pulse: &Pulse) -> (Arc<RateCoordinator>, Arc<FeedbackHandler>) {
    let coordinator = Arc::new(RateCoordinator::new());
    coordinator
        .register_provider(PROVIDER, ProviderConfig::default())
        .expect("registers");
    let handler = FeedbackHandler::new(
        &FeedbackSettings::default(),
        Arc::new(RateCoordinatorAdapter::new(coordinator.clone())),
        Arc::new(PulseAdjustmentSink::new(pulse.clone())),
    );
    (coordinator, Arc::new(handler))
}

/// Polls `condition` until it holds; fails the test after [`DEADLINE`].
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next delivery, within [`DEADLINE`].
async fn next<T: Contract>(sub: &mut Subscription<T>) -> Delivery<T> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(delivery) = sub.try_next().await.expect("reads") {
            return delivery;
        }
        assert!(Instant::now() < deadline, "nothing delivered in time");
    }
}

async fn pending(pulse: &Pulse, name: &str) -> u64 {
    pulse
        .backend()
        .pending(pulse.stream(name).key(), GROUP)
        .await
        .expect("pending count")
}

async fn stream_len(pulse: &Pulse, name: &str) -> u64 {
    pulse
        .backend()
        .len(pulse.stream(name).key())
        .await
        .expect("stream length")
}

async fn a_soft_event_delivered_twice_is_applied_once(h: Harness) {
    let pulse = h.pulse();
    let (coordinator, handler) = coordinated_handler(&pulse);
    let seen = Arc::new(Idempotency::new(NonZeroUsize::new(100).expect("non-zero")));
    let event = soft_event();
    let id = pulse
        .publish(FEEDBACK, &event, Some(STORE))
        .await
        .expect("publishes");

    // A first consumer of the group handles the event, marks it handled, and dies before
    // its ack reaches the bus.
    {
        let mut doomed = pulse
            .subscribe::<FeedbackEvent>(FEEDBACK, GROUP, "doomed")
            .await
            .expect("subscribes");
        let first = next(&mut doomed).await;
        assert_eq!(first.id(), id);
        assert!(!first.redelivered);
        let outcome = handler
            .handle(first.envelope.payload.clone())
            .await
            .expect("handled");
        assert!(matches!(outcome, HandleOutcome::Applied(_)), "{outcome:?}");
        seen.mark(first.id());
    }
    assert_eq!(pending(&pulse, FEEDBACK).await, 1, "never acked");

    // The consumer reclaims the entry after the idle timeout: delivered a second time.
    let stop = CancellationToken::new();
    let task = FeedbackConsumer::new(pulse.clone(), handler.clone(), "pipeline-test")
        .with_idempotency(seen)
        .spawn(stop.clone());
    wait_until("the redelivered entry is acked", || async {
        pending(&pulse, FEEDBACK).await == 0
    })
    .await;
    stop.cancel();
    let report = task.await.expect("consumer task");
    assert_eq!(
        (report.duplicates, report.handled, report.failed),
        (1, 0, 0),
        "{report:?}"
    );

    let state = coordinator.get_provider_state(PROVIDER).expect("known");
    assert_eq!(state.scale, 0.5);
    assert_eq!(state.pressure, BackpressureLevel::Soft);
    assert_eq!(
        stream_len(&pulse, RATE_ADJUSTMENT).await,
        1,
        "one adjustment published"
    );
    let mut observer = pulse
        .subscribe::<RateAdjustment>(RATE_ADJUSTMENT, "observer", "o1")
        .await
        .expect("subscribes");
    let adjustment = next(&mut observer).await.envelope.payload;
    assert_eq!((adjustment.scale, adjustment.ts), (0.5, event.ts));
}

async fn a_refused_adjustment_is_redelivered_then_dead_lettered(h: Harness) {
    let pulse = h.pulse();
    let controller = Arc::new(RecordingController::default());
    controller.fail.store(true, Ordering::SeqCst);
    let handler = Arc::new(FeedbackHandler::new(
        &FeedbackSettings::default(),
        controller.clone(),
        Arc::new(PulseAdjustmentSink::new(pulse.clone())),
    ));
    let event = soft_event();
    let id = pulse
        .publish(FEEDBACK, &event, Some(STORE))
        .await
        .expect("publishes");

    let stop = CancellationToken::new();
    let task = FeedbackConsumer::new(pulse.clone(), handler, "pipeline-test").spawn(stop.clone());
    wait_until("the event is dead-lettered", || async {
        !pulse
            .dead_letters(FEEDBACK, 10)
            .await
            .expect("lists dead letters")
            .is_empty()
    })
    .await;
    stop.cancel();
    let report = task.await.expect("consumer task");

    let max = u64::from(pulse.config().max_deliveries.get());
    assert_eq!(
        (report.failed, report.dead_lettered, report.handled),
        (max, 1, 0),
        "{report:?}"
    );
    assert_eq!(controller.refused.load(Ordering::SeqCst), max);
    assert!(controller.applied().is_empty());
    let dead = pulse.dead_letters(FEEDBACK, 10).await.expect("lists");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].original_id, id);
    assert_eq!(u64::from(dead[0].deliveries), max);
    assert!(dead[0].reason.contains("not applied"), "{}", dead[0].reason);
    let wire: WireEvent<FeedbackEvent> =
        serde_json::from_str(&dead[0].data_text()).expect("original data intact");
    assert_eq!(wire.payload, event.for_track(Track::V1));
    assert_eq!(wire.key.as_deref(), Some(STORE));
    assert_eq!(pending(&pulse, FEEDBACK).await, 0);
    assert_eq!(
        stream_len(&pulse, RATE_ADJUSTMENT).await,
        0,
        "nothing applied"
    );
}

async fn the_published_adjustment_carries_the_event_ts(h: Harness, track: Track) {
    let pulse = h.pulse_with(|c| c.track = track);
    let (_coordinator, handler) = coordinated_handler(&pulse);
    let stop = CancellationToken::new();
    let task = FeedbackConsumer::new(pulse.clone(), handler, "pipeline-test").spawn(stop.clone());
    let event = soft_event();
    pulse
        .publish(FEEDBACK, &event, Some(STORE))
        .await
        .expect("publishes");

    let mut observer = pulse
        .subscribe::<RateAdjustment>(RATE_ADJUSTMENT, "observer", "o1")
        .await
        .expect("subscribes");
    let published = next(&mut observer).await.envelope;
    let mut expected =
        RateAdjustment::new(PROVIDER, 0.5, BackpressureLevel::Soft, event.ts).expect("valid");
    if track == Track::V2 {
        expected = expected.with_coordinator(STORE);
    }
    assert_eq!(published.payload, expected);
    assert_eq!(published.key.as_deref(), Some(PROVIDER));
    assert_eq!(published.meta.schema_id, RateAdjustment::SCHEMA_ID);
    assert_eq!(published.meta.track, track);

    wait_until("the event is acked", || async {
        pending(&pulse, FEEDBACK).await == 0
    })
    .await;
    stop.cancel();
    let report = task.await.expect("consumer task");
    assert_eq!((report.handled, report.failed), (1, 0), "{report:?}");
}

async fn the_published_adjustment_decodes_on_v1_with_the_event_ts(h: Harness) {
    the_published_adjustment_carries_the_event_ts(h, Track::V1).await;
}

async fn the_published_adjustment_decodes_on_v2_with_its_coordinator(h: Harness) {
    the_published_adjustment_carries_the_event_ts(h, Track::V2).await;
}

async fn the_consumer_stops_promptly_when_cancelled(h: Harness) {
    let pulse = h.pulse();
    let (_coordinator, handler) = coordinated_handler(&pulse);
    let stop = CancellationToken::new();
    let task = FeedbackConsumer::new(pulse, handler, "pipeline-test").spawn(stop.clone());
    stop.cancel();
    let report = tokio::time::timeout(DEADLINE, task)
        .await
        .expect("stops before the deadline")
        .expect("consumer task");
    assert_eq!(report.handled + report.failed + report.duplicates, 0);
}

macro_rules! on_every_backend {
    ($backend:ident, $harness:expr; $($case:ident),* $(,)?) => {
        mod $backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(h) = $harness {
                        super::$case(h).await;
                    }
                }
            )*
        }
    };
}

macro_rules! cases {
    ($backend:ident, $harness:expr) => {
        on_every_backend!($backend, $harness;
            a_soft_event_delivered_twice_is_applied_once,
            a_refused_adjustment_is_redelivered_then_dead_lettered,
            the_published_adjustment_decodes_on_v1_with_the_event_ts,
            the_published_adjustment_decodes_on_v2_with_its_coordinator,
            the_consumer_stops_promptly_when_cancelled,
        );
    };
}

cases!(memory, Some(Harness::memory()));
cases!(redis, Harness::redis().await);
