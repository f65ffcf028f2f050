//! The store service's reader: takes bars from the bars stream in group [`STORE_GROUP`] one
//! read at a time, holds every entry of the read at once (so the keep-alive covers them all:
//! nothing is read ahead unheld) and submits the bars to the coordinator, each with its entry
//! id as its ticket; re-subscribes with backoff after a bus error; parks at the [`ReadGate`]
//! while an operator has paused it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use core_contracts::retry::{Backoff, RetryPolicy, wait_unless};
use core_contracts::{Bar, Clock, TokioClock};
use pulse::stream::STORE_GROUP;
use pulse::{CancellationToken, Pulse, Subscription};

use super::gate::ReadGate;
use super::in_flight::InFlight;
use crate::coordinator::{Ticket, WriteCoordinator};
use crate::sink::Revision;

/// Re-subscribing after a bus error waits 100 ms doubling to 5 s.
const RECONNECT: RetryPolicy =
    RetryPolicy::doubling(Duration::from_millis(100), Duration::from_secs(5));

/// Why a subscription was left without an error.
enum Left {
    Stopped,
    Paused,
}

/// What the reader took off the bus: entries taken into hand, and of those the ones
/// delivered before (reclaimed from a store that died, or left pending by an earlier run of
/// this consumer).
#[derive(Debug, Default)]
pub(super) struct ReadCounts {
    taken: AtomicU64,
    redelivered: AtomicU64,
}

impl ReadCounts {
    /// Entries taken into hand.
    pub(super) fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }

    /// Entries taken into hand that had been delivered before.
    pub(super) fn redelivered(&self) -> u64 {
        self.redelivered.load(Ordering::Relaxed)
    }
}

/// What the reader works with.
pub(super) struct Reader {
    /// The bus.
    pub pulse: Pulse,
    /// The consumer name in the group.
    pub consumer: String,
    /// Where the bars go.
    pub coordinator: WriteCoordinator,
    /// The entries in hand.
    pub held: Arc<InFlight>,
    /// The operator's pause switch.
    pub gate: Arc<ReadGate>,
    /// What it took.
    pub counts: Arc<ReadCounts>,
}

impl Reader {
    /// Reads bars and submits them until `stop` is cancelled.
    ///
    /// A pause drops the subscription once the bar in hand is submitted: entries delivered
    /// but not yet taken stay pending (another store may claim them, or this one re-reads
    /// them on resume).
    pub(super) async fn run(self, stop: CancellationToken) {
        let clock = TokioClock::new();
        let mut backoff = Backoff::new(RECONNECT);
        let mut failing = false;
        loop {
            self.gate.wait_open(&stop).await;
            if stop.is_cancelled() {
                return;
            }
            let error = match self
                .pulse
                .subscribe::<Bar>(pulse::stream::BARS, STORE_GROUP, &self.consumer)
                .await
            {
                Ok(mut sub) => match self.read(&mut sub, &stop, &mut backoff, &mut failing).await {
                    Ok(Left::Stopped) => return,
                    Ok(Left::Paused) => continue,
                    Err(error) => error,
                },
                Err(error) => error,
            };
            failing = true;
            let wait = backoff
                .fail(clock.elapsed(), rand::random())
                .unwrap_or(RECONNECT.max_backoff);
            tracing::warn!(%error, retry_in_ms = wait.as_millis(),
                "bar consumer restarting after a bus error");
            let stop_or_pause = async {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = self.gate.pause_requested() => {}
                }
            };
            wait_unless(wait, stop_or_pause).await;
            if stop.is_cancelled() {
                return;
            }
        }
    }

    async fn read(
        &self,
        sub: &mut Subscription<Bar>,
        stop: &CancellationToken,
        backoff: &mut Backoff,
        failing: &mut bool,
    ) -> Result<Left, pulse::BusError> {
        loop {
            let next = tokio::select! {
                biased;
                () = stop.cancelled() => return Ok(Left::Stopped),
                () = self.gate.pause_requested() => return Ok(Left::Paused),
                next = sub.try_next_batch() => next?,
            };
            if std::mem::take(failing) {
                tracing::info!(
                    redis = self.pulse.config().redis_address(),
                    "bars stream readable again"
                );
            }
            if next.is_empty() {
                continue;
            }
            backoff.succeed();
            let fresh: Vec<(Bar, String)> = next
                .into_iter()
                .filter(|d| self.held.hold(d.id()))
                .map(|d| {
                    if d.redelivered {
                        self.counts.redelivered.fetch_add(1, Ordering::Relaxed);
                    }
                    (d.envelope.payload, d.envelope.id)
                })
                .collect();
            self.counts
                .taken
                .fetch_add(fresh.len() as u64, Ordering::Relaxed);
            for (bar, id) in fresh {
                // One bar per call: a call cut short by the stop signal leaves its bar out of
                // the queue (still held, still pending on the bus) and every earlier bar in.
                let ticket: Ticket = Arc::from(id.as_str());
                let revision = Revision::from_entry_id(&id)
                    .unwrap_or_else(|| self.coordinator.next_revision());
                let submitted = tokio::select! {
                    biased;
                    () = stop.cancelled() => None,
                    result = self.coordinator.submit_tagged(vec![(bar, ticket, revision)]) => {
                        Some(result)
                    }
                };
                match submitted {
                    Some(Ok(())) => {}
                    Some(Err(error)) => {
                        self.held.release(&id);
                        tracing::warn!(%error, id, "bar not accepted; it stays pending");
                    }
                    None => return Ok(Left::Stopped),
                }
            }
        }
    }
}
