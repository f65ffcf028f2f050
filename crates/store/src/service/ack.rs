//! The store service's side of at-least-once delivery: [`settle_outcomes`] turns the
//! coordinator's report of each batch (written, or dead-lettered into its file) into the
//! entries to acknowledge, [`spawn_acker`] acknowledges them on the bus (retrying while the
//! bus is down) and trims them off the bars stream, and [`spawn_toucher`] keeps the entries
//! in hand from being reclaimed by another store while they wait in the queue.

use std::sync::Arc;
use std::time::Duration;

use core_contracts::TokioClock;
use core_contracts::retry::{RetryPolicy, retry};
use pulse::stream::STORE_GROUP;
use pulse::{CancellationToken, Pulse};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::in_flight::InFlight;
use crate::coordinator::BatchOutcome;
use crate::telemetry::ServiceMetrics;

const ACK_BATCH: usize = 1000;
/// A failed ack is retried 50 ms doubling to 2 s, until it passes or the store gives up.
const ACK_RETRY: RetryPolicy =
    RetryPolicy::doubling(Duration::from_millis(50), Duration::from_secs(2));
/// How often acknowledged entries are trimmed off the bars stream.
const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Entries whose bars are durably recorded, ready to be acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Settled {
    /// The entry ids.
    pub ids: Vec<String>,
    /// Whether their bars went to the dead-letter file rather than the sink.
    pub dead_lettered: bool,
}

/// The coordinator's outcome callback: the entries (the bars' tickets) of `held` whose bars a
/// batch wrote, or dead-lettered (kept in the dead-letter file for replay, so nothing is lost
/// by acknowledging them), are released and sent to the acker.
pub(super) fn settle_outcomes(
    held: Arc<InFlight>,
    acks: mpsc::UnboundedSender<Settled>,
) -> impl Fn(BatchOutcome<'_>) + Send + Sync + 'static {
    move |outcome| {
        let ids = held.settle(outcome.tickets().iter().flatten().map(|t| &**t));
        if ids.is_empty() {
            return;
        }
        if let BatchOutcome::DeadLettered {
            file, error_type, ..
        } = outcome
        {
            tracing::warn!(
                entries = ids.len(),
                file = %file.display(),
                error_type,
                "bars dead-lettered: their entries are acknowledged, replay them from the file"
            );
        }
        let settled = Settled {
            ids,
            dead_lettered: outcome.is_dead_lettered(),
        };
        if acks.send(settled).is_err() {
            tracing::warn!("acker gone: settled entries stay pending and will be redelivered");
        }
    }
}

/// Acknowledges the entries received until `finish` is cancelled and the channel is empty,
/// or `give_up` is cancelled (what is not acknowledged then stays pending: redelivered
/// later).
pub(super) fn spawn_acker(
    pulse: Pulse,
    mut rx: mpsc::UnboundedReceiver<Settled>,
    counters: ServiceMetrics,
    finish: CancellationToken,
    give_up: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let stream = pulse.stream(pulse::stream::BARS);
        let key = stream.key().to_owned();
        // The bars consumed, by what became of them: written (success) or kept in the
        // dead-letter file (error).
        let consumed = pulse
            .metrics()
            .consume_counters(stream.label(), pulse.config().track.as_str());
        let mut batches = Vec::new();
        let mut last_trim: Option<tokio::time::Instant> = None;
        loop {
            let got = tokio::select! {
                n = rx.recv_many(&mut batches, ACK_BATCH) => n,
                () = finish.cancelled() => {
                    while let Ok(ids) = rx.try_recv() {
                        batches.push(ids);
                    }
                    0
                }
            };
            let dead_lettered: usize = batches
                .iter()
                .filter(|s| s.dead_lettered)
                .map(|s| s.ids.len())
                .sum();
            let ids: Vec<String> = batches.drain(..).flat_map(|s| s.ids).collect();
            if !ids.is_empty() && ack(&pulse, &key, &ids, &give_up).await {
                counters.acked.inc_by(ids.len() as u64);
                counters.dead_lettered.inc_by(dead_lettered as u64);
                consumed.success.inc_by((ids.len() - dead_lettered) as u64);
                consumed.error.inc_by(dead_lettered as u64);
                if last_trim.is_none_or(|t| t.elapsed() >= TRIM_EVERY) {
                    last_trim = Some(tokio::time::Instant::now());
                    trim(&pulse).await;
                }
            }
            if got == 0 {
                return;
            }
        }
    })
}

/// Trims the bars stream below what every group still needs (the entries just acknowledged
/// among them); a failure is only logged: the next trim catches up.
async fn trim(pulse: &Pulse) {
    if let Err(error) = pulse.trim_acknowledged(pulse::stream::BARS).await {
        tracing::warn!(%error, "cannot trim the acknowledged bars");
    }
}

/// Acknowledges `ids`, retrying until it succeeds (true) or `give_up` is cancelled (false).
async fn ack(pulse: &Pulse, key: &str, ids: &[String], give_up: &CancellationToken) -> bool {
    retry(
        &ACK_RETRY,
        &TokioClock::new(),
        give_up.cancelled(),
        || pulse.backend().ack(key, STORE_GROUP, ids),
        |error, failure| {
            tracing::warn!(%error, entries = ids.len(),
                retry_in_ms = failure.retry_in.unwrap_or_default().as_millis(), "ack failed, retrying");
            true
        },
    )
    .await
    .is_ok()
}

/// Refreshes the idle time of every entry held, every third of the idle timeout, until
/// `stop` is cancelled.
pub(super) fn spawn_toucher(
    pulse: Pulse,
    consumer: String,
    held: Arc<InFlight>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let key = pulse.stream(pulse::stream::BARS).key().to_owned();
        let every = (pulse.config().idle_timeout / 3).max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval(every);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let ids = held.ids();
            for chunk in ids.chunks(ACK_BATCH) {
                if let Err(error) = pulse
                    .backend()
                    .touch(&key, STORE_GROUP, &consumer, chunk)
                    .await
                {
                    tracing::warn!(%error, "cannot refresh the entries in hand");
                    break;
                }
            }
        }
    })
}
