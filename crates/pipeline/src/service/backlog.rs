//! Backlog admission: the backlog of the bars stream for the store group (entries not yet
//! delivered plus entries delivered and not yet acknowledged), read every 100 ms into the
//! `pulse_backlog{stream="marketdata.bars",group="store"}` gauge and taken as pressure
//! against `MDP_MAX_BACKLOG`.

use std::sync::Arc;
use std::time::Duration;

use pulse::stream::STORE_GROUP;
use pulse::{CancellationToken, Pulse};
use tokio::task::JoinHandle;

use crate::FeedbackHandler;

/// How often the pipeline reads the backlog (one `XINFO GROUPS` each time).
pub(super) const ADMISSION_EVERY: Duration = Duration::from_millis(100);

/// Reads the backlog every [`ADMISSION_EVERY`] and hands it to `handler` as pressure until
/// `stop` is cancelled. While it cannot be read the last reading stands (plus what the
/// pipeline published since), so a bus outage never lifts the limit.
pub(super) fn spawn_backlog_admission(
    pulse: Pulse,
    handler: Arc<FeedbackHandler>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(ADMISSION_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let mark = handler.published_mark().await;
            match pulse.backlog(pulse::stream::BARS, STORE_GROUP).await {
                Ok(backlog) => {
                    failing = false;
                    if let Err(error) = handler.observe_backlog_since(backlog.total(), mark).await {
                        tracing::warn!(%error, "backlog pressure not applied yet");
                    }
                }
                Err(error) if !failing => {
                    failing = true;
                    tracing::warn!(%error, "cannot read the bars backlog");
                }
                Err(_) => {}
            }
        }
    })
}
