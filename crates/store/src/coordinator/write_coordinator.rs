//! The write coordinator's public face: submit bars, read its level and health, stop it.

use std::sync::{Arc, Mutex, PoisonError};

use core_contracts::{BackpressureLevel, Bar, FeedbackEvent};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::breaker::BreakerState;
use super::builder::CoordinatorBuilder;
use super::signals::FeedbackEmitter;
use super::stats::{CoordinatorStats, Counters};
use super::worker::WorkerShared;
use super::{CoordinatorConfig, SubmitError};
use crate::feedback::{FeedbackBus, FeedbackSource};
use crate::queue::{BoundedQueue, PutError};
use crate::sink::Sink;

/// Accepts bars into a bounded queue and writes them to a sink with N supervised workers,
/// batching by size or time, retrying, guarding the sink with a circuit breaker, and
/// dead-lettering what cannot be written. Its level goes out as feedback on a
/// [`FeedbackBus`]. Clones share the same coordinator.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use store::coordinator::{CoordinatorConfig, WriteCoordinator};
/// use store::feedback::FeedbackBus;
/// use store::sink::MemorySink;
///
/// let dir = std::env::temp_dir().join("mdp-doc-coordinator");
/// let sink = Arc::new(MemorySink::new());
/// let bus = FeedbackBus::new();
/// let coordinator = WriteCoordinator::builder(
///     CoordinatorConfig::new("bars", dir.join("dead-letters.ndjson")),
///     sink.clone(),
/// )
/// .bus(bus.clone())
/// .start()?;
/// let bar: core_contracts::Bar = serde_json::from_str(r#"{"provider":"p","symbol":"S",
///   "resolution":"1m","ts":"2024-05-01T13:30:00Z","open":"1","high":"2","low":"1",
///   "close":"2","volume":"10"}"#)?;
/// coordinator.submit(bar).await?;
/// let stats = coordinator.stop(true).await;
/// assert_eq!((stats.written, sink.len()), (1, 1));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WriteCoordinator {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for WriteCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteCoordinator")
            .field("coord_id", &self.inner.config.coord_id)
            .field("queue", &self.inner.queue)
            .field("circuit", &self.circuit_state())
            .finish_non_exhaustive()
    }
}

pub(super) struct Tasks {
    pub(super) workers: Vec<JoinHandle<()>>,
    pub(super) spool: JoinHandle<()>,
}

pub(super) struct Inner {
    pub(super) config: CoordinatorConfig,
    pub(super) queue: BoundedQueue<Bar>,
    pub(super) shared: Arc<WorkerShared>,
    pub(super) emitter: Arc<FeedbackEmitter>,
    pub(super) bus: FeedbackBus,
    pub(super) spool_tx: Arc<Mutex<Option<mpsc::UnboundedSender<Bar>>>>,
    pub(super) tasks: Mutex<Option<Tasks>>,
    pub(super) stopped: tokio::sync::Mutex<Option<CoordinatorStats>>,
    pub(super) submitted: Counter,
    pub(super) depth: Gauge,
    pub(super) alive: Gauge,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropped without `stop`: let the workers drain what is queued and end.
        self.queue.close();
    }
}

impl Inner {
    pub(super) fn level(&self) -> BackpressureLevel {
        self.emitter.effective_level(self.queue.level())
    }
}

impl FeedbackSource for Inner {
    fn coordinator_id(&self) -> &str {
        &self.config.coord_id
    }

    fn current_level(&self) -> BackpressureLevel {
        self.level()
    }

    fn current_event(&self) -> FeedbackEvent {
        self.emitter
            .current_event(self.queue.len(), self.queue.level())
    }
}

impl WriteCoordinator {
    /// Starts building a coordinator that writes to `sink`.
    pub fn builder(config: CoordinatorConfig, sink: Arc<dyn Sink>) -> CoordinatorBuilder {
        CoordinatorBuilder::new(config, sink)
    }

    /// The coordinator's id.
    pub fn coord_id(&self) -> &str {
        &self.inner.config.coord_id
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &CoordinatorConfig {
        &self.inner.config
    }

    /// The bus its feedback goes to.
    pub fn bus(&self) -> &FeedbackBus {
        &self.inner.bus
    }

    /// Accepts one bar; see [`WriteCoordinator::submit_many`].
    pub async fn submit(&self, bar: Bar) -> Result<(), SubmitError> {
        self.submit_many(vec![bar]).await
    }

    /// Accepts `bars` in order. Every bar is validated first (an invalid one refuses the
    /// call). Under `block` this waits for room; under `error` a full queue refuses the rest
    /// of the call, which comes back in the error with every bar after it.
    pub async fn submit_many(&self, bars: Vec<Bar>) -> Result<(), SubmitError> {
        if let Some((index, source)) = bars
            .iter()
            .enumerate()
            .find_map(|(i, bar)| bar.validate().err().map(|e| (i, e)))
        {
            return Err(SubmitError::InvalidBar {
                index,
                source,
                rejected: bars,
            });
        }
        let mut accepted = 0u64;
        let mut bars = bars.into_iter();
        let mut refused = None;
        for bar in bars.by_ref() {
            match self.inner.queue.put(bar).await {
                Ok(()) => accepted += 1,
                Err(e) => {
                    refused = Some(e);
                    break;
                }
            }
        }
        self.inner.submitted.inc_by(accepted);
        Counters::add(&self.inner.shared.counters.submitted, accepted as usize);
        self.inner.depth.set(self.inner.queue.len() as i64);
        match refused {
            None => Ok(()),
            Some(e) => {
                let full = matches!(e, PutError::QueueFull(_));
                let mut rejected = vec![e.into_inner()];
                rejected.extend(bars);
                Err(if full {
                    SubmitError::QueueFull { rejected }
                } else {
                    SubmitError::Closed { rejected }
                })
            }
        }
    }

    /// The level pipelines should act on now: the queue's, or HARD while the breaker is open.
    /// A heartbeat publisher re-publishes it (or reads [`FeedbackBus::current_events`]).
    pub fn current_level(&self) -> BackpressureLevel {
        self.inner.level()
    }

    /// An event stating the current level and queue size with a fresh sequence number, for
    /// a heartbeat; it is not published by this call.
    pub fn current_event(&self) -> FeedbackEvent {
        self.inner.current_event()
    }

    /// Bars waiting in the queue.
    pub fn queue_depth(&self) -> usize {
        self.inner.queue.len()
    }

    /// The circuit breaker's state.
    pub fn circuit_state(&self) -> BreakerState {
        self.inner.shared.breaker.state()
    }

    /// Workers running now.
    pub fn workers_alive(&self) -> i64 {
        self.inner.alive.get()
    }

    /// What the coordinator did so far.
    pub fn stats(&self) -> CoordinatorStats {
        self.inner.shared.counters.snapshot()
    }

    /// Stops accepting bars and ends the workers; returns the final counters.
    ///
    /// With `drain`, every queued bar is written (with retries, waiting out an open breaker)
    /// or dead-lettered; without, batches in hand finish their current write and everything
    /// else goes straight to the dead-letter file. Either way no accepted bar is lost
    /// silently: afterwards `submitted == written + dead_lettered + lost`, and `lost` stays 0
    /// unless the dead-letter file itself cannot be written. Calling it again returns the
    /// same report.
    pub async fn stop(&self, drain: bool) -> CoordinatorStats {
        let mut stopped = self.inner.stopped.lock().await;
        if let Some(stats) = *stopped {
            return stats;
        }
        let inner = &self.inner;
        let shared = &inner.shared;
        inner.queue.close();
        if !drain {
            shared.cancel.cancel();
        }
        let tasks = inner
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(tasks) = tasks {
            for worker in tasks.workers {
                if let Err(e) = worker.await {
                    tracing::error!(coord_id = %shared.coord_id, error = %e, "worker task failed");
                }
            }
            let rest = inner.queue.take(usize::MAX);
            if !rest.is_empty() {
                let error = "coordinator stopped before the bars were written";
                if let Err(e) = shared.dead_letter(&rest, error, "stopped", 0).await {
                    tracing::error!(coord_id = %shared.coord_id, error = %e, lost = rest.len(),
                        "cannot dead-letter the bars left in the queue");
                    Counters::add(&shared.counters.lost, rest.len());
                }
            }
            inner
                .spool_tx
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Err(e) = tasks.spool.await {
                tracing::error!(coord_id = %shared.coord_id, error = %e, "drop spool task failed");
            }
        }
        if let Err(e) = shared.sink.flush().await {
            tracing::warn!(coord_id = %shared.coord_id, error = %e, "sink flush at stop failed");
        }
        inner.bus.unregister_source(&shared.coord_id);
        inner.depth.set(inner.queue.len() as i64);
        let stats = shared.counters.snapshot();
        tracing::info!(coord_id = %shared.coord_id, ?stats, drain, "coordinator stopped");
        *stopped = Some(stats);
        stats
    }

    /// Whether [`WriteCoordinator::stop`] has begun.
    pub fn is_stopped(&self) -> bool {
        self.inner.queue.is_closed()
    }
}
