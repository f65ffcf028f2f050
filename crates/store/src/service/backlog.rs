//! The backlog of the bars stream for the store group (entries not yet delivered plus
//! entries delivered and not yet acknowledged), read every second into the
//! `pulse_backlog{stream="marketdata.bars",group="store"}` gauge; and the start-up warning
//! when Redis would lose unread bars in a restart.

use std::time::Duration;

use pulse::stream::STORE_GROUP;
use pulse::{CancellationToken, Pulse};
use tokio::task::JoinHandle;

/// How often the store reads the backlog.
const EVERY: Duration = Duration::from_secs(1);

/// Reads the backlog every second until `stop` is cancelled.
pub(super) fn spawn_backlog_gauge(pulse: Pulse, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(EVERY);
        let mut failing = false;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            match pulse.backlog(pulse::stream::BARS, STORE_GROUP).await {
                Ok(_) => failing = false,
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "cannot read the bars backlog");
                }
                Err(_) => {}
            }
        }
    })
}

/// Warns once, at start, when the bus is Redis without `appendonly yes`: a Redis restart
/// could then lose published bars nobody has read yet, and acknowledged feedback.
pub(super) async fn warn_if_volatile(pulse: &Pulse) {
    if pulse.backend().kind() != "redis" {
        return;
    }
    match pulse.backend().survives_restart().await {
        Ok(Some(true)) => {}
        Ok(Some(false)) => tracing::warn!(
            "Redis runs without appendonly: a Redis restart loses the bars not yet written \
             (set `appendonly yes`, see docs/operations.md, Durability)"
        ),
        Ok(None) => tracing::warn!(
            "cannot read Redis's appendonly setting (CONFIG GET refused): make sure it is on, \
             or a Redis restart may lose bars not yet written"
        ),
        Err(error) => tracing::warn!(%error, "cannot read Redis's appendonly setting"),
    }
}
