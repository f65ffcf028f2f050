//! The feedback consumer is supervised: a bus error makes it back off and open the stream
//! again, and the event waiting on the stream is still applied (from the replayed history).

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use core_contracts::{BackpressureLevel, FeedbackEvent};
use pipeline::config::FeedbackSettings;
use pipeline::feedback::{FeedbackConsumer, FeedbackHandler, PulseAdjustmentSink};
use pipeline::rate::{ProviderConfig, RateCoordinator, RateCoordinatorAdapter};
use pulse::stream::{FEEDBACK, RATE_ADJUSTMENT};
use pulse::testing::FlakyBus;
use pulse::{BackendKind, CancellationToken, EventBus, Pulse};
use support::bus::{test_config, unique_prefix};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn the_consumer_resubscribes_after_bus_errors_and_applies_the_waiting_event() {
    let bus = Arc::new(FlakyBus::new(2));
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
    loop {
        if coordinator.get_provider_state("ibkr").expect("known").scale == 0.5 {
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
