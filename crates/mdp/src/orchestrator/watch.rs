//! How the orchestrator hears the members without taking anything from them: broadcast
//! reads (no consumer group, nothing acknowledged) of `telemetry.feedback`,
//! `telemetry.health`, `telemetry.rate_adjustment` and `control.results`, and a reading of
//! the bars stream's backlog for the store group every second. At start the recent history
//! of the feedback and status streams is replayed (as heard when it was sent), so a
//! restarted orchestrator knows the members at once.

use std::sync::Arc;
use std::time::Duration;

use core_contracts::{
    BarsView, Clock, ControlReply, EventEnvelope, FeedbackEvent, HealthStatus, LEAVING_HEADER,
    RateAdjustment,
};
use pipeline::feedback::PIPELINE_HEADER;
use pulse::stream::{BARS, CONTROL_RESULTS, FEEDBACK, HEALTH, RATE_ADJUSTMENT, STORE_GROUP};
use pulse::{Broadcast, BusError, CancellationToken, Pulse};
use tokio::task::JoinSet;

use super::state::Shared;

/// Entries of the feedback and status streams replayed at start.
const HISTORY: usize = 1000;
/// How long a failed read waits before the next.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How often the backlog is read and a snapshot taken.
pub(crate) const TICK: Duration = Duration::from_secs(1);

/// Spawns every reader and the ticker into `tasks`; they stop when `shutdown` is cancelled.
pub(crate) fn spawn_watchers(
    tasks: &mut JoinSet<()>,
    pulse: &Pulse,
    shared: &Arc<Shared>,
    shutdown: &CancellationToken,
) {
    let clock = Arc::clone(pulse.clock());
    {
        let (shared, clock) = (Arc::clone(shared), Arc::clone(&clock));
        tasks.spawn(follow::<FeedbackEvent, _>(
            pulse.clone(),
            FEEDBACK,
            HISTORY,
            shutdown.clone(),
            move |event, replayed| {
                let heard = heard_at(&*clock, event.payload.ts, replayed);
                let leaving =
                    event.meta.headers.get(LEAVING_HEADER).map(String::as_str) == Some("true");
                shared.topology().feedback(&event.payload, leaving, heard);
            },
        ));
    }
    {
        let (shared, clock) = (Arc::clone(shared), Arc::clone(&clock));
        tasks.spawn(follow::<HealthStatus, _>(
            pulse.clone(),
            HEALTH,
            HISTORY,
            shutdown.clone(),
            move |event, replayed| {
                let Some(id) = event.key.as_deref() else {
                    return;
                };
                let heard = heard_at(&*clock, event.payload.ts, replayed);
                let leaving =
                    event.meta.headers.get(LEAVING_HEADER).map(String::as_str) == Some("true");
                shared.topology().status(id, &event.payload, leaving, heard);
            },
        ));
    }
    {
        let (shared, clock) = (Arc::clone(shared), Arc::clone(&clock));
        tasks.spawn(follow::<RateAdjustment, _>(
            pulse.clone(),
            RATE_ADJUSTMENT,
            0,
            shutdown.clone(),
            move |event, _| {
                if let Some(id) = event.meta.headers.get(PIPELINE_HEADER) {
                    shared
                        .topology()
                        .adjustment(id, &event.payload, clock.unix_seconds());
                }
            },
        ));
    }
    {
        let shared = Arc::clone(shared);
        tasks.spawn(follow::<ControlReply, _>(
            pulse.clone(),
            CONTROL_RESULTS,
            0,
            shutdown.clone(),
            move |event, _| {
                // nobody waiting is fine: the reply came late or for another orchestrator
                let _ = shared.replies.send(event.payload);
            },
        ));
    }
    tasks.spawn(tick(pulse.clone(), Arc::clone(shared), shutdown.clone()));
}

/// When an event was heard: now, or for a replayed one its own time (never in the future).
fn heard_at(clock: &dyn Clock, ts: f64, replayed: bool) -> f64 {
    let now = clock.unix_seconds();
    if replayed { ts.min(now) } else { now }
}

/// Reads stream `name` for good: the newest `history` entries first (`replayed`), then
/// every new one, each handed to `each`.
async fn follow<T, F>(
    pulse: Pulse,
    name: &'static str,
    history: usize,
    shutdown: CancellationToken,
    mut each: F,
) where
    T: core_contracts::Contract,
    F: FnMut(EventEnvelope<T>, bool) + Send,
{
    let mut reader = loop {
        match open::<T>(&pulse, name, history).await {
            Ok((reader, replayed)) => {
                for event in replayed {
                    each(event, true);
                }
                break reader;
            }
            Err(error) => {
                tracing::warn!(stream = name, %error, "cannot read the stream yet; retrying");
                if pause_or_stop(&shutdown).await {
                    return;
                }
            }
        }
    };
    loop {
        let batch = tokio::select! {
            () = shutdown.cancelled() => return,
            batch = reader.try_next_batch() => batch,
        };
        match batch {
            Ok(events) => {
                for event in events {
                    each(event, false);
                }
            }
            Err(error) => {
                tracing::warn!(stream = name, %error, "cannot read the stream; retrying");
                if pause_or_stop(&shutdown).await {
                    return;
                }
            }
        }
    }
}

async fn open<T: core_contracts::Contract>(
    pulse: &Pulse,
    name: &str,
    history: usize,
) -> Result<(Broadcast<T>, Vec<EventEnvelope<T>>), BusError> {
    let mut reader = pulse.broadcast::<T>(name).await?;
    let replayed = reader.history(history.max(1)).await?;
    let replayed = if history == 0 { Vec::new() } else { replayed };
    Ok((reader, replayed))
}

/// Waits before a retry; true when told to stop meanwhile.
async fn pause_or_stop(shutdown: &CancellationToken) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => true,
        () = tokio::time::sleep(RETRY_AFTER) => false,
    }
}

/// Every [`TICK`]: reads the backlog, takes a snapshot, records it in the history and hands
/// it to the page's event streams.
async fn tick(pulse: Pulse, shared: Arc<Shared>, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = pulse.stream(BARS).full().to_owned();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match pulse.backlog(BARS, STORE_GROUP).await {
            Ok(backlog) => shared.topology().bars(BarsView {
                stream: stream.clone(),
                group: STORE_GROUP.to_owned(),
                undelivered: backlog.undelivered,
                pending: backlog.pending,
            }),
            Err(error) => tracing::debug!(%error, "cannot read the bars backlog"),
        }
        shared.refresh(pulse.clock().unix_seconds());
    }
}
