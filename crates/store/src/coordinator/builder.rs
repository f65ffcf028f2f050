//! Construction of a [`WriteCoordinator`]: validation (the dead-letter file included), the
//! queue with its feedback hooks, the breaker, the workers under supervision and the spool
//! that dead-letters dropped bars.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use core_contracts::breaker::CircuitBreaker;
use core_contracts::retry::{RetryPolicy, retry};
use core_contracts::{Clock, TokioClock};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::guard::BreakerGuard;
use super::outcome::{BatchOutcome, OutcomeFn};
use super::signals::FeedbackEmitter;
use super::stats::Counters;
use super::supervisor::supervise;
use super::ticket::{Batch, Item};
use super::worker::{Worker, WorkerShared};
use super::write_coordinator::{Inner, Tasks, WriteCoordinator};
use super::{CoordinatorConfig, CoordinatorError};
use crate::dead_letter::DeadLetterFile;
use crate::feedback::{FeedbackBus, FeedbackSource};
use crate::queue::{BoundedQueue, Sequence};
use crate::sink::{RevisionGenerator, Sink};
use crate::telemetry::{CoordLabels, CoordinatorMetrics};

/// Most dropped bars per dead-letter record.
const SPOOL_BATCH: usize = 1000;
/// Retries of a failing dead-letter append of dropped bars: four, 200 ms doubling.
const SPOOL_RETRY: RetryPolicy = RetryPolicy {
    max_retries: Some(4),
    ..RetryPolicy::doubling(Duration::from_millis(200), Duration::from_millis(1600))
};

/// Builds and starts a [`WriteCoordinator`].
pub struct CoordinatorBuilder {
    config: CoordinatorConfig,
    sink: Arc<dyn Sink>,
    bus: Option<FeedbackBus>,
    clock: Option<Arc<dyn Clock>>,
    metrics: Option<CoordinatorMetrics>,
    on_outcome: Option<OutcomeFn>,
}

impl std::fmt::Debug for CoordinatorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoordinatorBuilder")
            .field("config", &self.config)
            .field("sink", &self.sink.name())
            .finish_non_exhaustive()
    }
}

impl CoordinatorBuilder {
    pub(super) fn new(config: CoordinatorConfig, sink: Arc<dyn Sink>) -> Self {
        Self {
            config,
            sink,
            bus: None,
            clock: None,
            metrics: None,
            on_outcome: None,
        }
    }

    /// Publishes feedback on `bus` (default: a bus of its own).
    pub fn bus(mut self, bus: FeedbackBus) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Reads time from `clock` (default: [`TokioClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Records telemetry in `metrics` (default: a private set).
    pub fn metrics(mut self, metrics: CoordinatorMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Reports every finished batch to `callback`: `Written` after the sink wrote it,
    /// `DeadLettered` after it was synced to the dead-letter file
    /// (by a worker, by `drop_oldest` or by `stop`). Bars neither written nor dead-lettered
    /// (counted as `lost`) are not reported. The callback runs on the worker: keep it quick
    /// and non-blocking.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use store::coordinator::{BatchOutcome, CoordinatorConfig, WriteCoordinator};
    /// use store::sink::MemorySink;
    ///
    /// let written = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&written);
    /// let dir = std::env::temp_dir().join("mdp-doc-outcome");
    /// let coordinator = WriteCoordinator::builder(
    ///     CoordinatorConfig::new("bars", dir.join("dead-letters.ndjson")),
    ///     Arc::new(MemorySink::new()),
    /// )
    /// .on_outcome(move |outcome: BatchOutcome<'_>| {
    ///     if let BatchOutcome::Written { bars, .. } = outcome {
    ///         seen.fetch_add(bars.len(), Ordering::Relaxed);
    ///     }
    /// })
    /// .start()?;
    /// let bar: core_contracts::Bar = serde_json::from_str(r#"{"provider":"p","symbol":"S",
    ///   "resolution":"1m","ts":"2024-05-01T13:30:00Z","open":"1","high":"2","low":"1",
    ///   "close":"2","volume":"10"}"#)?;
    /// coordinator.submit(bar).await?;
    /// coordinator.stop(true).await;
    /// assert_eq!(written.load(Ordering::Relaxed), 1);
    /// # Ok(()) }
    /// ```
    pub fn on_outcome(
        mut self,
        callback: impl Fn(BatchOutcome<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.on_outcome = Some(Arc::new(callback));
        self
    }

    /// Validates the config, checks that the dead-letter file can be opened for append, and
    /// spawns the workers on the current tokio runtime.
    pub fn start(self) -> Result<WriteCoordinator, CoordinatorError> {
        let config = self.config;
        let marks = config.validate()?;
        let dead_letters = DeadLetterFile::new(config.dead_letter_path.clone());
        dead_letters
            .check()
            .map_err(|source| CoordinatorError::DeadLetterFile {
                path: config.dead_letter_path.clone(),
                source,
            })?;
        let clock = self
            .clock
            .unwrap_or_else(|| Arc::new(TokioClock::new()) as Arc<dyn Clock>);
        let bus = self.bus.unwrap_or_default();
        let metrics = self.metrics.unwrap_or_default();
        let coord_id = config.coord_id.clone();
        metrics.prime(&coord_id, config.workers.get());
        let sequence = Sequence::from_unix_seconds(clock.unix_seconds());
        let revisions = RevisionGenerator::new(Arc::clone(&clock));
        let emitter = Arc::new(FeedbackEmitter::new(
            coord_id.clone(),
            marks.capacity(),
            bus.clone(),
            Arc::clone(&clock),
            metrics.clone(),
            sequence.clone(),
        ));
        let counters = Arc::new(Counters::default());

        let (spool_tx, spool_rx) = mpsc::unbounded_channel::<Item>();
        let spool_tx = Arc::new(Mutex::new(Some(spool_tx)));
        let hook_emitter = Arc::clone(&emitter);
        let drop_tx = Arc::clone(&spool_tx);
        let drop_counters = Arc::clone(&counters);
        let queue = BoundedQueue::builder(config.capacity)
            .watermarks(config.high_watermark, config.low_watermark)
            .overflow(config.overflow)
            .sequence(sequence)
            .on_signal(move |signal| hook_emitter.on_queue_signal(signal))
            .on_drop(move |bar| {
                let sent = drop_tx
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_ref()
                    .is_some_and(|tx| tx.send(bar).is_ok());
                if !sent {
                    Counters::add(&drop_counters.lost, 1);
                }
            })
            .build()?;

        let breaker = Arc::new(BreakerGuard::new(
            CircuitBreaker::new(config.breaker),
            Arc::clone(&clock),
            Arc::clone(&emitter),
            queue.clone(),
            metrics.clone(),
            coord_id.clone(),
        ));
        let cancel = CancellationToken::new();
        let shared = Arc::new(WorkerShared {
            coord_id: coord_id.clone(),
            queue: queue.clone(),
            sink: self.sink,
            breaker,
            emitter: Arc::clone(&emitter),
            retry: config.retry,
            retryable: config.retryable,
            batch_size: config.batch_size.get(),
            flush_interval: config.flush_interval,
            dead_letters,
            clock,
            metrics: metrics.clone(),
            counters,
            cancel,
            on_outcome: self.on_outcome,
        });
        let labels = CoordLabels { coord_id };
        metrics.queue_depth.get_or_create(&labels).set(0);
        metrics.workers_alive.get_or_create(&labels).set(0);

        let mut set = JoinSet::new();
        let workers = (0..config.workers.get())
            .map(|id| {
                let worker = Arc::new(Worker::new(Arc::clone(&shared), id));
                set.spawn(supervise(Arc::clone(&worker), config.restart_backoff));
                worker
            })
            .collect();
        let spool = tokio::spawn(spool(Arc::clone(&shared), spool_rx));

        let inner = Arc::new(Inner {
            submitted: metrics.items_submitted.get_or_create(&labels).clone(),
            depth: metrics.queue_depth.get_or_create(&labels).clone(),
            alive: metrics.workers_alive.get_or_create(&labels).clone(),
            config,
            queue,
            shared,
            emitter,
            bus: bus.clone(),
            revisions,
            spool_tx,
            tasks: Mutex::new(Some(Tasks {
                workers,
                set,
                spool,
            })),
            stopped: tokio::sync::Mutex::new(None),
        });
        let weak = Arc::downgrade(&inner);
        bus.register_source(weak as std::sync::Weak<dyn FeedbackSource>);
        Ok(WriteCoordinator { inner })
    }
}

/// Dead-letters the bars `drop_oldest` removed, in batches, until the queue is stopped. A
/// failing append is retried a few times (200 ms doubling; once the coordinator is cancelled,
/// one last attempt without waiting), then the bars are counted as lost.
async fn spool(shared: Arc<WorkerShared>, mut rx: mpsc::UnboundedReceiver<Item>) {
    let mut buf = Vec::with_capacity(SPOOL_BATCH);
    while rx.recv_many(&mut buf, SPOOL_BATCH).await > 0 {
        let batch = Batch::from_items(std::mem::take(&mut buf));
        let n = batch.len();
        Counters::add(&shared.counters.dropped, n);
        let error = "dropped from a full queue by overflow strategy drop_oldest";
        let written = retry(
            &SPOOL_RETRY,
            shared.clock.as_ref(),
            shared.cancel.cancelled(),
            || shared.dead_letter(batch.part(0..n), error, "drop_oldest", 0),
            |e, failure| {
                let again = failure.retry_in.is_some() && !shared.cancel.is_cancelled();
                if again {
                    tracing::error!(error = %e, attempt = failure.attempts,
                        "cannot dead-letter dropped bars, retrying");
                }
                again
            },
        )
        .await;
        if let Err(gave_up) = written {
            // A stop cuts a wait short, not the attempt after it: one last append before the
            // bars count as lost.
            if shared.cancel.is_cancelled()
                && shared
                    .dead_letter(batch.part(0..n), error, "drop_oldest", 0)
                    .await
                    .is_ok()
            {
                continue;
            }
            tracing::error!(error = %gave_up.error, bars = n, "dropped bars lost");
            Counters::add(&shared.counters.lost, n);
        }
    }
}
