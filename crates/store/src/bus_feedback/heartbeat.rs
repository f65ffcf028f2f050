//! The level heartbeat: every `MDS_FB_HEARTBEAT_SEC`, each coordinator registered on the
//! feedback bus re-publishes its current level and queue size.

use std::sync::Arc;
use std::time::Duration;

use core_contracts::FeedbackEvent;
use pulse::CancellationToken;
use tokio::task::JoinHandle;

use super::PulseFeedbackPublisher;
use crate::feedback::FeedbackBus;

/// Spawns the heartbeat: at once and then every `every`, the current event of every
/// coordinator registered on `bus` is published; stops when `shutdown` is cancelled.
/// Failures are logged and counted by Pulse, and the next beat carries on.
pub fn spawn_heartbeat(
    bus: FeedbackBus,
    publisher: Arc<PulseFeedbackPublisher>,
    every: Duration,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    spawn_every(every, shutdown, publisher, "heartbeat", move || {
        bus.current_events()
    })
}

/// Spawns a task that, at once and then every `every` until `shutdown`, publishes the
/// events `pick` returns; `what` names the task in the log of a failed publish.
pub(super) fn spawn_every(
    every: Duration,
    shutdown: CancellationToken,
    publisher: Arc<PulseFeedbackPublisher>,
    what: &'static str,
    mut pick: impl FnMut() -> Vec<FeedbackEvent> + Send + 'static,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every.max(Duration::from_millis(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            for event in pick() {
                if let Err(error) = publisher.publish_event(&event).await {
                    tracing::warn!(coordinator = event.coordinator_id, %error, "{what} publish failed");
                }
            }
        }
    })
}
