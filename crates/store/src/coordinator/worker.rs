//! One writer: takes a batch from the queue (by size or flush interval) and settles it.
//!
//! A transient failure keeps the batch and retries it with the [`RetryPolicy`] backoff through
//! the breaker, for as long as it takes (or until the optional give-up deadline); a worker
//! waiting on an open breaker wakes on the breaker's own timer and probes, so the loop recovers
//! with no new work arriving. A permanent failure bisects the batch until the offending bars
//! are alone; only those are dead-lettered. A failing dead-letter append is retried with the
//! same backoff while the coordinator reports HARD. The batch in hand and the parts of it not
//! yet settled are kept in a slot that the supervisor and `stop` can read, so neither a panic
//! nor a stop loses them.

use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use core_contracts::retry::{RetryPolicy, retry, wait_unless};
use core_contracts::{Bar, Clock};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::guard::{Admit, BreakerGuard};
use super::outcome::{BatchOutcome, OutcomeFn};
use super::signals::FeedbackEmitter;
use super::stats::Counters;
use super::supervisor::panic_message;
use super::ticket::{Batch, Item, Part, halves};
use crate::dead_letter::{DeadLetterError, DeadLetterFile, DeadLetterRecord};
use crate::queue::BoundedQueue;
use crate::sink::{Revision, Sink, SinkError};
use crate::telemetry::{
    CoordLabels, CoordinatorMetrics, DropLabels, WorkerErrorLabels, WorkerLabels,
};

/// Longest single wait on a rejecting breaker before asking again.
const BREAKER_POLL: Duration = Duration::from_secs(1);

/// The coordinator is stopping: the worker leaves what it holds in its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stopped;

/// The batch a worker holds: the parts not yet settled (a stack, the next part last) and
/// whether the write of the top part panicked.
pub(crate) struct InFlight {
    pub(crate) batch: Arc<Batch>,
    pub(crate) pending: Vec<Range<usize>>,
    pub(crate) panicked: bool,
}

/// How one write of a part ended.
enum Attempted {
    Written,
    Permanent(SinkError, u32),
    GaveUp(SinkError, u32),
}

/// What every worker of a coordinator shares.
pub(crate) struct WorkerShared {
    pub(crate) coord_id: String,
    pub(crate) queue: BoundedQueue<Item>,
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) breaker: Arc<BreakerGuard>,
    pub(crate) emitter: Arc<FeedbackEmitter>,
    pub(crate) retry: RetryPolicy,
    pub(crate) retryable: fn(&SinkError) -> bool,
    pub(crate) batch_size: usize,
    pub(crate) flush_interval: Duration,
    pub(crate) dead_letters: DeadLetterFile,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: CoordinatorMetrics,
    pub(crate) counters: Arc<Counters>,
    pub(crate) cancel: CancellationToken,
    pub(crate) on_outcome: Option<OutcomeFn>,
}

impl WorkerShared {
    /// Appends `bars` (with their revisions) to the dead-letter file once, then counts and
    /// reports them.
    pub(crate) async fn dead_letter(
        &self,
        (bars, tickets, revisions): Part<'_>,
        error: &str,
        error_type: &'static str,
        attempts: u32,
    ) -> Result<(), DeadLetterError> {
        if bars.is_empty() {
            return Ok(());
        }
        let record = DeadLetterRecord::new(
            self.coord_id.clone(),
            error,
            error_type,
            attempts,
            bars.to_vec(),
            self.clock.unix_seconds(),
        )
        .with_revisions(revisions.to_vec());
        self.dead_letters.append(&record).await?;
        tracing::warn!(coord_id = %self.coord_id, bars = bars.len(), error, error_type,
            "bars dead-lettered");
        self.report(BatchOutcome::DeadLettered {
            bars,
            tickets,
            file: self.dead_letters.path(),
            error_type,
        });
        Counters::add(&self.counters.dead_lettered, bars.len());
        self.metrics
            .items_dropped
            .get_or_create(&DropLabels {
                coord_id: self.coord_id.clone(),
                reason: if error_type == "drop_oldest" {
                    "drop_oldest"
                } else {
                    "dead_letter"
                },
            })
            .inc_by(bars.len() as u64);
        Ok(())
    }

    /// Appends `part` to the dead-letter file, retrying a failing append with the retry
    /// backoff (HARD `dead_letter_failed` meanwhile) until it succeeds or the coordinator
    /// stops.
    async fn dead_letter_until_done(
        &self,
        part: Part<'_>,
        error: &str,
        error_type: &'static str,
        attempts: u32,
    ) -> Result<(), Stopped> {
        let mut failed = false;
        let policy = RetryPolicy {
            give_up_after: None,
            max_retries: None,
            ..self.retry
        };
        let result = retry(
            &policy,
            self.clock.as_ref(),
            self.cancel.cancelled(),
            || self.dead_letter(part, error, error_type, attempts),
            |e, failure| {
                if !failed {
                    failed = true;
                    self.emitter
                        .on_dead_letter(true, self.queue.len(), self.queue.level());
                }
                tracing::error!(coord_id = %self.coord_id, error = %e, bars = part.0.len(),
                    failures = failure.attempts, retry_in_ms = failure.retry_in.unwrap_or_default().as_millis(),
                    "cannot append to the dead-letter file, retrying");
                true
            },
        )
        .await;
        if failed {
            self.emitter
                .on_dead_letter(false, self.queue.len(), self.queue.level());
        }
        result.map_err(|_| Stopped)
    }

    /// Sleeps `wait`, or returns `Stopped` as soon as the coordinator is cancelled.
    async fn pause(&self, wait: Duration) -> Result<(), Stopped> {
        if wait_unless(wait, self.cancel.cancelled()).await {
            Ok(())
        } else {
            Err(Stopped)
        }
    }

    /// Hands `outcome` to the outcome callback, if any. A panicking callback is logged and
    /// contained: the batch is recorded already and must not be handled twice.
    pub(crate) fn report(&self, outcome: BatchOutcome<'_>) {
        let Some(callback) = &self.on_outcome else {
            return;
        };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| callback(outcome))) {
            tracing::error!(coord_id = %self.coord_id, panic = panic_message(panic.as_ref()),
                "batch outcome callback panicked");
        }
    }

    pub(crate) fn update_depth(&self) {
        self.metrics
            .queue_depth
            .get_or_create(&CoordLabels {
                coord_id: self.coord_id.clone(),
            })
            .set(self.queue.len() as i64);
    }
}

/// One worker of a coordinator.
pub(crate) struct Worker {
    pub(crate) shared: Arc<WorkerShared>,
    pub(crate) worker_id: usize,
    pub(crate) inflight: Mutex<Option<InFlight>>,
    labels: WorkerLabels,
}

impl Worker {
    pub(crate) fn new(shared: Arc<WorkerShared>, worker_id: usize) -> Self {
        let labels = WorkerLabels {
            coord_id: shared.coord_id.clone(),
            worker_id: worker_id.to_string(),
        };
        Self {
            shared,
            worker_id,
            inflight: Mutex::new(None),
            labels,
        }
    }

    /// Runs until the queue is closed and empty, or the coordinator is cancelled (what the
    /// worker holds then stays in its slot).
    pub(crate) async fn run(&self) {
        while !self.shared.cancel.is_cancelled() {
            if self.slot().is_none() {
                let Some(items) = self.next_batch().await else {
                    return;
                };
                let batch = Batch::from_items(items);
                *self.slot() = Some(InFlight {
                    pending: std::iter::once(0..batch.len()).collect(),
                    batch: Arc::new(batch),
                    panicked: false,
                });
            }
            if self.settle().await.is_err() {
                return;
            }
            *self.slot() = None;
        }
    }

    /// Settles every pending part of the batch in hand: written, bisected, or dead-lettered.
    /// A part whose write panicked (left by a previous run) is dead-lettered: it would panic
    /// the sink again.
    async fn settle(&self) -> Result<(), Stopped> {
        let s = &self.shared;
        loop {
            let next = self.slot().as_ref().and_then(|f| {
                let range = f.pending.last()?.clone();
                Some((Arc::clone(&f.batch), range, f.panicked))
            });
            let Some((batch, range, panicked)) = next else {
                return Ok(());
            };
            let part = batch.part(range.clone());
            let split = if panicked {
                let error = "worker panicked while writing the batch";
                s.dead_letter_until_done(part, error, "panic", 1).await?;
                None
            } else {
                match self.write(part.0, part.2).await? {
                    Attempted::Written => {
                        Counters::add(&s.counters.written, part.0.len());
                        s.report(BatchOutcome::Written {
                            bars: part.0,
                            tickets: part.1,
                        });
                        None
                    }
                    Attempted::Permanent(error, attempts) => match halves(&range) {
                        Some(split) => {
                            tracing::debug!(coord_id = %s.coord_id, worker = self.worker_id,
                                bars = range.len(), %error, "permanent failure, bisecting");
                            Some(split)
                        }
                        None => {
                            let text = error.to_string();
                            s.dead_letter_until_done(part, &text, error.kind(), attempts)
                                .await?;
                            None
                        }
                    },
                    Attempted::GaveUp(error, attempts) => {
                        let text = error.to_string();
                        s.dead_letter_until_done(part, &text, "transient", attempts)
                            .await?;
                        None
                    }
                }
            };
            if let Some(f) = self.slot().as_mut() {
                f.pending.pop();
                f.panicked = false;
                if let Some((first, second)) = split {
                    f.pending.push(second);
                    f.pending.push(first);
                }
            }
        }
    }

    /// The next batch: waits for one bar, then fills up to `batch_size` for at most
    /// `flush_interval`. `None` once the queue is closed and empty.
    async fn next_batch(&self) -> Option<Vec<Item>> {
        let s = &self.shared;
        let first = tokio::select! {
            first = s.queue.get() => first?,
            () = s.cancel.cancelled() => return None,
        };
        let mut batch = Vec::with_capacity(s.batch_size.min(4096));
        batch.push(first);
        batch.extend(s.queue.take(s.batch_size - batch.len()));
        if batch.len() < s.batch_size && !s.flush_interval.is_zero() {
            let deadline = Instant::now() + s.flush_interval;
            while batch.len() < s.batch_size {
                let next = tokio::select! {
                    next = tokio::time::timeout_at(deadline, s.queue.get()) => next,
                    () = s.cancel.cancelled() => break,
                };
                match next {
                    Ok(Some(item)) => {
                        batch.push(item);
                        batch.extend(s.queue.take(s.batch_size - batch.len()));
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
        s.update_depth();
        Some(batch)
    }

    /// Writes `bars` through the breaker, retrying transient failures with backoff until
    /// they pass or the give-up deadline (if any) is reached.
    async fn write(&self, bars: &[Bar], revisions: &[Revision]) -> Result<Attempted, Stopped> {
        let s = &self.shared;
        let mut attempts = 0u32;
        let mut failing: Option<(Duration, SinkError)> = None;
        loop {
            if s.cancel.is_cancelled() {
                return Err(Stopped);
            }
            if let Some((since, error)) = &failing
                && s.retry.gives_up(s.clock.elapsed().saturating_sub(*since))
            {
                return Ok(Attempted::GaveUp(error.clone(), attempts));
            }
            let mut changed = s.breaker.watch();
            let permit = match s.breaker.admit() {
                Admit::Go(permit) => permit,
                Admit::Wait(retry_in) => {
                    let wait = retry_in.unwrap_or(BREAKER_POLL).min(BREAKER_POLL);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = changed.changed() => {}
                        () = s.cancel.cancelled() => return Err(Stopped),
                    }
                    continue;
                }
            };
            attempts += 1;
            let started = Instant::now();
            let result = s.sink.write(bars, revisions).await;
            s.metrics
                .write_latency_seconds
                .get_or_create(&self.labels)
                .observe(started.elapsed().as_secs_f64());
            let error = match result {
                Ok(()) => {
                    permit.success();
                    s.metrics.batches_written.get_or_create(&self.labels).inc();
                    return Ok(Attempted::Written);
                }
                Err(error) => error,
            };
            s.metrics
                .write_errors
                .get_or_create(&WorkerErrorLabels {
                    coord_id: s.coord_id.clone(),
                    worker_id: self.labels.worker_id.clone(),
                    error_type: error.kind(),
                })
                .inc();
            if !(s.retryable)(&error) {
                // The sink answered: it is reachable, the data is at fault.
                permit.success();
                return Ok(Attempted::Permanent(error, attempts));
            }
            permit.failure();
            let wait = s.retry.backoff(attempts, rand::random::<f64>());
            tracing::debug!(coord_id = %s.coord_id, worker = self.worker_id, attempts,
                %error, retry_in_ms = wait.as_millis(), "sink write failed, retrying");
            let since = failing.map_or_else(|| s.clock.elapsed(), |(since, _)| since);
            failing = Some((since, error));
            s.pause(wait).await?;
        }
    }

    pub(crate) fn slot(&self) -> MutexGuard<'_, Option<InFlight>> {
        self.inflight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bars, tickets and revisions of the parts not yet settled, taken out of the slot.
    pub(crate) fn take_pending(&self) -> Batch {
        let mut left = Batch::default();
        if let Some(f) = self.slot().take() {
            for range in f.pending.iter().rev() {
                Batch::extend(f.batch.part(range.clone()), &mut left);
            }
        }
        left
    }
}
