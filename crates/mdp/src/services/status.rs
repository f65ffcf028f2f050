//! The status report every store and pipeline publishes for the orchestrator: at once and
//! then every `--status-every` seconds, a `HealthStatus` on `{ns}.telemetry.health` keyed by
//! the member's id, and a last one with the header `leaving: true` when it stops.

use std::future::Future;
use std::time::Duration;

use core_contracts::{HealthStatus, LEAVING_HEADER};
use pulse::{CancellationToken, Pulse};
use tokio::task::JoinHandle;

/// Spawns the reporter of member `id`: `report` is asked for the status at each beat;
/// when `shutdown` is cancelled it publishes the goodbye and stops. A failed publish is logged and counted by Pulse, and
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
            // a report that takes longer than a period (a sink slow to answer) is skipped
            let status = tokio::select! {
                () = shutdown.cancelled() => break,
                status = tokio::time::timeout(every, report()) => status,
            };
            match status {
                Ok(status) => publish(&pulse, &id, &status, false).await,
                Err(_) => tracing::debug!(member = id, "status report took too long; skipped"),
            }
        }
        // the last report says goodbye, so the member shows as left rather than gone
        if let Ok(status) = tokio::time::timeout(every, report()).await {
            publish(&pulse, &id, &status, true).await;
        }
    })
}

async fn publish(pulse: &Pulse, id: &str, status: &HealthStatus, leaving: bool) {
    let sealed = pulse.seal(status, Some(id)).map(|mut event| {
        if leaving {
            event
                .meta
                .headers
                .insert(LEAVING_HEADER.to_owned(), "true".to_owned());
        }
        event
    });
    let published = match sealed {
        Ok(event) => pulse.publish_event(pulse::stream::HEALTH, &event).await,
        Err(error) => Err(error),
    };
    if let Err(error) = published {
        tracing::debug!(member = id, %error, "status report not published");
    }
}

/// Waits for the status reporter and the command reader to end (at most 2 s: then they are
/// aborted, so that a stuck one never holds the store back from draining).
pub(crate) async fn join_members(reporting: JoinHandle<()>, obeying: JoinHandle<()>) {
    let (abort_reporting, abort_obeying) = (reporting.abort_handle(), obeying.abort_handle());
    let joined = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = tokio::join!(reporting, obeying);
    })
    .await;
    if joined.is_err() {
        tracing::warn!("status reporter or command reader slow to stop; aborted");
        abort_reporting.abort();
        abort_obeying.abort();
    }
}
