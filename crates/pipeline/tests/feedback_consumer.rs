//! The Pulse feedback consumer, on the in-memory bus and on Redis Streams (a real server):
//! every pipeline hears every event, a pipeline that starts late knows every live store's
//! level from the stream's history before it publishes, a store's goodbye drops it at once,
//! and applied adjustments are published.

mod support;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use core_contracts::{
    BackpressureLevel, Contract, FeedbackEvent, LEAVING_HEADER, RateAdjustment, Track,
};
use pipeline::config::FeedbackSettings;
use pipeline::feedback::{FeedbackConsumer, FeedbackHandler, PulseAdjustmentSink};
use pipeline::rate::{ProviderConfig, RateCoordinator, RateCoordinatorAdapter};
use pulse::stream::{FEEDBACK, RATE_ADJUSTMENT};
use pulse::{CancellationToken, Delivery, Pulse, Subscription};
use support::RecordingController;
use support::bus::Harness;
use tokio::time::Instant;

const DEADLINE: Duration = Duration::from_secs(10);
const PROVIDER: &str = "ibkr";
const STORE: &str = "bars-coord";

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs_f64()
}

/// A report from store coordinator `id` at `level`, stamped now.
fn report(id: &str, level: BackpressureLevel) -> FeedbackEvent {
    FeedbackEvent::new(id, 800, 1000, level, now()).expect("valid event")
}

fn soft_event() -> FeedbackEvent {
    report(STORE, BackpressureLevel::Soft)
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

fn scale(coordinator: &RateCoordinator) -> f64 {
    coordinator
        .get_provider_state(PROVIDER)
        .expect("known")
        .scale
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

async fn publish(pulse: &Pulse, event: &FeedbackEvent) {
    pulse
        .publish(FEEDBACK, event, Some(&event.coordinator_id))
        .await
        .expect("publishes");
}

async fn goodbye(pulse: &Pulse, event: &FeedbackEvent) {
    let wire = pulse
        .seal(event, Some(&event.coordinator_id))
        .expect("seals")
        .with_header(LEAVING_HEADER, "true");
    pulse
        .publish_event(FEEDBACK, &wire)
        .await
        .expect("publishes");
}

async fn every_pipeline_applies_every_event(h: Harness) {
    let pulse = h.pulse();
    let stop = CancellationToken::new();
    let mut pipelines = Vec::new();
    for name in ["pipeline-a", "pipeline-b"] {
        let (coordinator, handler) = coordinated_handler(&pulse);
        let task = FeedbackConsumer::new(pulse.clone(), handler, name).spawn(stop.clone());
        pipelines.push((coordinator, task));
    }
    for (level, expected) in [
        (BackpressureLevel::Hard, 0.0),
        (BackpressureLevel::Ok, 1.0),
        (BackpressureLevel::Soft, 0.5),
        (BackpressureLevel::Hard, 0.0),
    ] {
        publish(&pulse, &report(STORE, level)).await;
        for (coordinator, _) in &pipelines {
            wait_until(&format!("every pipeline at {level}"), || async {
                scale(coordinator) == expected
            })
            .await;
        }
    }
    stop.cancel();
    for (_, task) in pipelines {
        let report = task.await.expect("consumer task");
        assert_eq!((report.handled, report.failed), (4, 0), "{report:?}");
    }
    let groups = pulse
        .backend()
        .backlog(pulse.stream(FEEDBACK).key(), "pipeline")
        .await
        .expect("backlog");
    assert_eq!(groups.pending, 0, "no group holds feedback entries");
}

async fn a_late_pipeline_knows_every_live_store_before_it_publishes(h: Harness) {
    let pulse = h.pulse();
    let stale = FeedbackEvent::new(
        "long-gone",
        1,
        1000,
        BackpressureLevel::Hard,
        now() - 3600.0,
    )
    .expect("valid event");
    publish(&pulse, &stale).await;
    publish(&pulse, &report("store-a", BackpressureLevel::Ok)).await;
    publish(&pulse, &report("store-b", BackpressureLevel::Soft)).await;
    publish(&pulse, &report("store-a", BackpressureLevel::Hard)).await;

    let (coordinator, handler) = coordinated_handler(&pulse);
    handler.tick().await.expect("ticks");
    assert_eq!(scale(&coordinator), 0.0, "no store known yet: holding");
    let mut consumer = FeedbackConsumer::new(pulse.clone(), Arc::clone(&handler), "late");
    assert_eq!(consumer.catch_up().await.expect("replays history"), 4);
    let known = handler.coordinators().await;
    assert_eq!(
        known
            .iter()
            .map(|(id, view)| (id.as_str(), view.level))
            .collect::<Vec<_>>(),
        vec![
            ("store-a", BackpressureLevel::Hard),
            ("store-b", BackpressureLevel::Soft),
        ],
        "the newest level of each live store; the stale one ignored"
    );
    assert_eq!(scale(&coordinator), 0.0, "store-a is hard");

    let stop = CancellationToken::new();
    let task = consumer.spawn(stop.clone());
    publish(&pulse, &report("store-a", BackpressureLevel::Ok)).await;
    wait_until("store-a's recovery is heard", || async {
        scale(&coordinator) == 0.5
    })
    .await;
    stop.cancel();
    task.await.expect("consumer task");
}

async fn a_goodbye_drops_its_store_at_once(h: Harness) {
    let pulse = h.pulse();
    let (coordinator, handler) = coordinated_handler(&pulse);
    let stop = CancellationToken::new();
    let task = FeedbackConsumer::new(pulse.clone(), Arc::clone(&handler), "p").spawn(stop.clone());
    publish(&pulse, &report("store-a", BackpressureLevel::Soft)).await;
    publish(&pulse, &report("store-b", BackpressureLevel::Ok)).await;
    wait_until("both stores are known", || async {
        handler.coordinators().await.len() == 2
    })
    .await;
    assert_eq!(scale(&coordinator), 0.5);
    goodbye(&pulse, &report("store-a", BackpressureLevel::Soft)).await;
    wait_until("store-a is dropped", || async {
        scale(&coordinator) == 1.0
    })
    .await;
    assert_eq!(
        handler.coordinators().await.keys().collect::<Vec<_>>(),
        vec!["store-b"]
    );
    goodbye(&pulse, &report("store-b", BackpressureLevel::Ok)).await;
    wait_until("the last store left: holding", || async {
        scale(&coordinator) == 0.0
    })
    .await;
    assert!(!handler.store_known().await);
    stop.cancel();
    task.await.expect("consumer task");
}

async fn a_refused_adjustment_is_applied_by_the_next_tick(h: Harness) {
    let pulse = h.pulse();
    let controller = Arc::new(RecordingController::default());
    controller.fail.store(true, Ordering::SeqCst);
    let handler = Arc::new(FeedbackHandler::new(
        &FeedbackSettings::default(),
        controller.clone(),
        Arc::new(PulseAdjustmentSink::new(pulse.clone())),
    ));
    publish(&pulse, &soft_event()).await;
    let stop = CancellationToken::new();
    let task = FeedbackConsumer::new(pulse.clone(), Arc::clone(&handler), "p").spawn(stop.clone());
    wait_until("the adjustment was refused", || async {
        controller.refused.load(Ordering::SeqCst) >= 1
    })
    .await;
    assert!(controller.applied().is_empty());
    controller.fail.store(false, Ordering::SeqCst);
    handler.tick().await.expect("ticks");
    assert_eq!(
        controller.scales(),
        vec![0.5],
        "the admitted level, applied"
    );
    stop.cancel();
    let report = task.await.expect("consumer task");
    assert_eq!(report.failed, 1, "{report:?}");
}

async fn the_published_adjustment_carries_the_event_ts(h: Harness, track: Track) {
    let pulse = h.pulse_with(|c| c.track = track);
    let (_coordinator, handler) = coordinated_handler(&pulse);
    let stop = CancellationToken::new();
    let task = FeedbackConsumer::new(pulse.clone(), handler, "pipeline-test").spawn(stop.clone());
    let event = soft_event();
    publish(&pulse, &event).await;

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
    assert_eq!(report.handled + report.failed, 0);
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
            every_pipeline_applies_every_event,
            a_late_pipeline_knows_every_live_store_before_it_publishes,
            a_goodbye_drops_its_store_at_once,
            a_refused_adjustment_is_applied_by_the_next_tick,
            the_published_adjustment_decodes_on_v1_with_the_event_ts,
            the_published_adjustment_decodes_on_v2_with_its_coordinator,
            the_consumer_stops_promptly_when_cancelled,
        );
    };
}

cases!(memory, Some(Harness::memory()));
cases!(redis, Harness::redis().await);
