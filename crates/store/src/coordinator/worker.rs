//! One writer: takes a batch from the queue (by size or flush interval), writes it through the
//! breaker with retries, and dead-letters it when it fails for good. The batch in hand is kept
//! in a slot the supervisor can read, so a panic or fatal error loses nothing.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use core_contracts::{Bar, Clock};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::RetryPolicy;
use super::guard::{Admit, BreakerGuard};
use super::outcome::{BatchOutcome, OutcomeFn};
use super::stats::Counters;
use super::supervisor::panic_message;
use crate::dead_letter::{DeadLetterError, DeadLetterFile, DeadLetterRecord};
use crate::queue::BoundedQueue;
use crate::sink::Sink;
use crate::telemetry::{
    CoordLabels, CoordinatorMetrics, DropLabels, WorkerErrorLabels, WorkerLabels,
};

/// Longest single wait on a rejecting breaker before asking again.
const BREAKER_POLL: Duration = Duration::from_secs(1);

/// A failure that ends the worker's run; the supervisor restarts it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkerError {
    /// A batch could be neither written nor dead-lettered.
    #[error("cannot dead-letter a batch: {0}")]
    DeadLetter(#[from] DeadLetterError),
}

/// The batch a worker holds; `panicked` once its write panicked.
pub(crate) struct InFlight {
    pub(crate) bars: Arc<Vec<Bar>>,
    pub(crate) panicked: bool,
}

/// What every worker of a coordinator shares.
pub(crate) struct WorkerShared {
    pub(crate) coord_id: String,
    pub(crate) queue: BoundedQueue<Bar>,
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) breaker: Arc<BreakerGuard>,
    pub(crate) retry: RetryPolicy,
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
    /// Appends `bars` to the dead-letter file and counts them.
    pub(crate) async fn dead_letter(
        &self,
        bars: &[Bar],
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
        );
        self.dead_letters.append(&record).await?;
        tracing::warn!(coord_id = %self.coord_id, bars = bars.len(), error, error_type,
            "batch dead-lettered");
        self.report(BatchOutcome::DeadLettered {
            bars,
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

    /// Runs until the queue is closed and empty.
    pub(crate) async fn run(&self) -> Result<(), WorkerError> {
        self.resume().await?;
        while let Some(batch) = self.next_batch().await {
            let bars = Arc::new(batch);
            *self.slot() = Some(InFlight {
                bars: Arc::clone(&bars),
                panicked: false,
            });
            self.deliver(&bars).await?;
            *self.slot() = None;
        }
        Ok(())
    }

    /// Finishes the batch a previous run left behind: dead-letters it if its write panicked
    /// (a batch that panics the sink would do so again), writes it otherwise.
    async fn resume(&self) -> Result<(), WorkerError> {
        let left = self
            .slot()
            .as_ref()
            .map(|f| (Arc::clone(&f.bars), f.panicked));
        if let Some((bars, panicked)) = left {
            if panicked {
                self.shared
                    .dead_letter(&bars, "worker panicked while writing the batch", "panic", 1)
                    .await?;
            } else {
                self.deliver(&bars).await?;
            }
            *self.slot() = None;
        }
        Ok(())
    }

    /// The next batch: waits for one bar, then fills up to `batch_size` for at most
    /// `flush_interval`. `None` once the queue is closed and empty.
    async fn next_batch(&self) -> Option<Vec<Bar>> {
        let s = &self.shared;
        let first = s.queue.get().await?;
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
                    Ok(Some(bar)) => {
                        batch.push(bar);
                        batch.extend(s.queue.take(s.batch_size - batch.len()));
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
        s.update_depth();
        Some(batch)
    }

    /// Writes `bars` with retries through the breaker, or dead-letters them.
    async fn deliver(&self, bars: &[Bar]) -> Result<(), WorkerError> {
        let s = &self.shared;
        let mut attempts = 0u32;
        loop {
            if s.cancel.is_cancelled() {
                let error = "coordinator stopped without drain";
                return Ok(s.dead_letter(bars, error, "stopped", attempts).await?);
            }
            let mut changed = s.breaker.watch();
            let permit = match s.breaker.admit() {
                Admit::Go(permit) => permit,
                Admit::Wait(retry_in) => {
                    let wait = retry_in.unwrap_or(BREAKER_POLL).min(BREAKER_POLL);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = changed.changed() => {}
                        () = s.cancel.cancelled() => {}
                    }
                    continue;
                }
            };
            attempts += 1;
            let started = Instant::now();
            let result = s.sink.write(bars).await;
            s.metrics
                .write_latency_seconds
                .get_or_create(&self.labels)
                .observe(started.elapsed().as_secs_f64());
            let error = match result {
                Ok(()) => {
                    permit.success();
                    s.metrics.batches_written.get_or_create(&self.labels).inc();
                    Counters::add(&s.counters.written, bars.len());
                    s.report(BatchOutcome::Written { bars });
                    return Ok(());
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
            if (s.retry.classifier)(&error) {
                permit.failure();
            } else {
                permit.success();
            }
            if !s.retry.should_retry(attempts, &error) {
                return Ok(s
                    .dead_letter(bars, &error.to_string(), error.kind(), attempts)
                    .await?);
            }
            let wait = s.retry.backoff(attempts, rand::random::<f64>());
            tracing::debug!(coord_id = %s.coord_id, worker = self.worker_id, attempts,
                %error, ?wait, "sink write failed, retrying");
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = s.cancel.cancelled() => {}
            }
        }
    }

    pub(crate) fn slot(&self) -> MutexGuard<'_, Option<InFlight>> {
        self.inflight.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
