//! The consumer runner survives bus errors: it logs, backs off and re-subscribes, and no
//! message is lost.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::{BoxError, EventEnvelope, FeedbackEvent};
use pulse::testing::FlakyBus;
use pulse::{BackendKind, CancellationToken, ConsumerRunner, Handler, Pulse};

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
    let bus = Arc::new(FlakyBus::new(3));
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
