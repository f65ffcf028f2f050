//! Stopping a coordinator: drain (for as long as it takes, or within a grace period), then
//! settle what was not written — dead-letter it or leave it to its source — in bounded time,
//! whatever state the sink and the dead-letter file are in.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::timeout;

use super::stats::{CoordinatorStats, Counters};
use super::ticket::Batch;
use super::write_coordinator::WriteCoordinator;

/// How long workers get to return after they are told to stop (they finish the write in
/// hand) before the rest are aborted, abandoning a write still in flight.
const EXIT_BOUND: Duration = Duration::from_secs(1);
/// How long the leftover dead-letter append, the drop spool and the final sink flush each get.
const SETTLE_BOUND: Duration = Duration::from_secs(2);

/// What a stop does with the bars it could not write before its grace period ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftover {
    /// Append them to the dead-letter file (reported `DeadLettered`, error type `stopped`);
    /// counted `lost` if even that fails. For a process that is the bars' only holder.
    DeadLetter,
    /// Leave them to their source: counted `abandoned`, not reported, not dead-lettered. For
    /// a consumer whose source redelivers what it did not acknowledge (bus entries stay
    /// pending and go to another store).
    Abandon,
}

impl WriteCoordinator {
    /// Stops accepting bars and ends the workers; returns the final counters.
    ///
    /// With `drain`, every queued bar is written (with retries, waiting out an open breaker
    /// for as long as it takes) or dead-lettered; without, batches in hand finish their
    /// current write and everything else goes straight to the dead-letter file (this is
    /// `stop_within(Duration::ZERO, Leftover::DeadLetter)`). Either way no accepted bar is
    /// lost silently: afterwards `submitted == written + dead_lettered + lost`, and `lost`
    /// stays 0 unless the dead-letter file itself cannot be written. Calling it again returns
    /// the same report.
    pub async fn stop(&self, drain: bool) -> CoordinatorStats {
        if drain {
            self.shutdown(None, Leftover::DeadLetter).await
        } else {
            self.stop_within(Duration::ZERO, Leftover::DeadLetter).await
        }
    }

    /// Stops accepting bars and writes what is queued for at most `grace`. When the grace
    /// period ends first (e.g. the sink is down) the workers are stopped — they finish the
    /// write in hand for at most a second, then a write still in flight is abandoned — and
    /// every bar not written is settled as `leftover` says. Returns within `grace` plus a few
    /// seconds, even with a hung sink or an unwritable dead-letter file; afterwards
    /// `submitted == written + dead_lettered + lost + abandoned`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use store::coordinator::{CoordinatorConfig, Leftover, WriteCoordinator};
    /// use store::sink::{MemorySink, SinkError};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let sink = Arc::new(MemorySink::new());
    /// sink.set_failing(Some(SinkError::Transient("down".into())));
    /// let coordinator = WriteCoordinator::builder(
    ///     CoordinatorConfig::new("bars", dir.path().join("dead-letters.ndjson")),
    ///     sink,
    /// )
    /// .start()?;
    /// let bar: core_contracts::Bar = serde_json::from_str(r#"{"provider":"p","symbol":"S",
    ///   "resolution":"1m","ts":"2024-05-01T13:30:00Z","open":"1","high":"2","low":"1",
    ///   "close":"2","volume":"10"}"#)?;
    /// coordinator.submit(bar).await?;
    /// let stats = coordinator.stop_within(Duration::from_secs(5), Leftover::Abandon).await;
    /// assert_eq!((stats.written, stats.abandoned, stats.dead_lettered), (0, 1, 0));
    /// # Ok(()) }
    /// ```
    pub async fn stop_within(&self, grace: Duration, leftover: Leftover) -> CoordinatorStats {
        self.shutdown(Some(grace), leftover).await
    }

    async fn shutdown(&self, grace: Option<Duration>, leftover: Leftover) -> CoordinatorStats {
        let mut stopped = self.inner.stopped.lock().await;
        if let Some(stats) = *stopped {
            return stats;
        }
        let inner = &self.inner;
        let shared = &inner.shared;
        inner.queue.close();
        let tasks = inner
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(mut tasks) = tasks {
            let drained = match grace {
                None => {
                    join_all(&mut tasks.set, &shared.coord_id).await;
                    true
                }
                Some(grace) => timeout(grace, join_all(&mut tasks.set, &shared.coord_id))
                    .await
                    .is_ok(),
            };
            if !drained {
                shared.cancel.cancel();
                if timeout(EXIT_BOUND, join_all(&mut tasks.set, &shared.coord_id))
                    .await
                    .is_err()
                {
                    tracing::warn!(coord_id = %shared.coord_id,
                        "workers still writing after the grace period: abandoning their writes");
                    tasks.set.abort_all();
                    join_all(&mut tasks.set, &shared.coord_id).await;
                }
            }
            let mut left = Batch::default();
            for worker in &tasks.workers {
                let part = worker.take_pending();
                Batch::extend(part.part(0..part.len()), &mut left);
            }
            let queued = Batch::from_items(inner.queue.take(usize::MAX));
            Batch::extend(queued.part(0..queued.len()), &mut left);
            self.settle_leftover(&left, leftover).await;

            inner
                .spool_tx
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if timeout(SETTLE_BOUND, &mut tasks.spool).await.is_err() {
                shared.cancel.cancel();
                if timeout(EXIT_BOUND, &mut tasks.spool).await.is_err() {
                    tracing::error!(coord_id = %shared.coord_id,
                        "drop spool did not finish: dropped bars it held are lost");
                    tasks.spool.abort();
                }
            }
        }
        match timeout(SETTLE_BOUND, shared.sink.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(coord_id = %shared.coord_id, error = %e, "sink flush at stop failed");
            }
            Err(_) => tracing::warn!(coord_id = %shared.coord_id, "sink flush at stop timed out"),
        }
        shared.cancel.cancel();
        inner.bus.unregister_source(&shared.coord_id);
        inner.depth.set(inner.queue.len() as i64);
        let stats = shared.counters.snapshot();
        tracing::info!(coord_id = %shared.coord_id, submitted = stats.submitted,
            written = stats.written, dead_lettered = stats.dead_lettered, dropped = stats.dropped,
            lost = stats.lost, abandoned = stats.abandoned,
            grace_s = grace.map_or(-1.0, |g| g.as_secs_f64()),
            "coordinator stopped");
        *stopped = Some(stats);
        stats
    }

    /// Dead-letters or abandons the bars no worker wrote.
    async fn settle_leftover(&self, left: &Batch, leftover: Leftover) {
        if left.is_empty() {
            return;
        }
        let shared = &self.inner.shared;
        let n = left.len();
        match leftover {
            Leftover::Abandon => {
                tracing::warn!(coord_id = %shared.coord_id, bars = n,
                    "stopped before these bars were written: left to their source");
                Counters::add(&shared.counters.abandoned, n);
            }
            Leftover::DeadLetter => {
                let error = "coordinator stopped before the bars were written";
                let appended = timeout(
                    SETTLE_BOUND,
                    shared.dead_letter(left.part(0..n), error, "stopped", 0),
                )
                .await;
                let failure = match appended {
                    Ok(Ok(())) => return,
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "the dead-letter append timed out".to_owned(),
                };
                tracing::error!(coord_id = %shared.coord_id, error = failure, lost = n,
                    "cannot dead-letter the bars left at stop");
                Counters::add(&shared.counters.lost, n);
            }
        }
    }
}

/// Waits for every task of `set`, logging those that failed (an aborted task is expected).
async fn join_all(set: &mut JoinSet<()>, coord_id: &str) {
    while let Some(joined) = set.join_next().await {
        if let Err(e) = joined
            && !e.is_cancelled()
        {
            tracing::error!(coord_id, error = %e, "worker task failed");
        }
    }
}
