//! The status report every store and pipeline publishes for the orchestrator: at once and
//! then every `--status-every` seconds, a `HealthStatus` on `{ns}.telemetry.health` keyed by
//! the member's id.

use std::future::Future;
use std::time::Duration;

use core_contracts::HealthStatus;
use pulse::{CancellationToken, Pulse};
use tokio::task::JoinHandle;

/// Spawns the reporter of member `id`: `report` is asked for the status at each beat;
/// stops when `shutdown` is cancelled. A failed publish is logged and counted by Pulse, and
/// the next beat carries on.
pub(crate) fn spawn_status<F, Fut>(
    pulse: Pulse,
    id: String,
    every: Duration,
    shutdown: CancellationToken,
    report: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = HealthStatus> + Send,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every.max(Duration::from_millis(10)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let status = report().await;
            if let Err(error) = pulse
                .publish(pulse::stream::HEALTH, &status, Some(&id))
                .await
            {
                tracing::debug!(member = id, %error, "status report not published");
            }
        }
    })
}
