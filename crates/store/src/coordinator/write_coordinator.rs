//! The write coordinator's public face: submit bars (tagged with tickets or not), read its
//! level and health. Stopping it lives in `stop.rs`.

use std::sync::{Arc, Mutex, PoisonError};

use core_contracts::breaker::BreakerState;
use core_contracts::{BackpressureLevel, Bar, FeedbackEvent};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use super::builder::CoordinatorBuilder;
use super::signals::FeedbackEmitter;
use super::stats::{CoordinatorStats, Counters};
use super::ticket::Item;
use super::worker::{Worker, WorkerShared};
use super::{CoordinatorConfig, SubmitError, Ticket};
use crate::feedback::{FeedbackBus, FeedbackSource};
use crate::queue::{BoundedQueue, PutError};
use crate::sink::{Revision, RevisionGenerator, Sink};

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
    pub(super) workers: Vec<Arc<Worker>>,
    pub(super) set: JoinSet<()>,
    pub(super) spool: JoinHandle<()>,
}

pub(super) struct Inner {
    pub(super) config: CoordinatorConfig,
    pub(super) queue: BoundedQueue<Item>,
    pub(super) shared: Arc<WorkerShared>,
    pub(super) emitter: Arc<FeedbackEmitter>,
    pub(super) bus: FeedbackBus,
    pub(super) revisions: RevisionGenerator,
    pub(super) spool_tx: Arc<Mutex<Option<mpsc::UnboundedSender<Item>>>>,
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
        let tasks = self
            .tasks
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut tasks) = tasks {
            tasks.set.detach_all();
        }
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

    /// Accepts `bars` in order, untagged, each with a fresh revision from
    /// [`WriteCoordinator::next_revision`] (taken in submission order). Every bar is validated
    /// first (an invalid one refuses the call). Under `block` this waits for room; under
    /// `error` a full queue refuses the rest of the call, which comes back in the error with
    /// every bar after it.
    pub async fn submit_many(&self, bars: Vec<Bar>) -> Result<(), SubmitError> {
        self.submit_items(
            bars.into_iter()
                .map(|bar| Item::untagged(bar, self.next_revision()))
                .collect(),
        )
        .await
    }

    /// Accepts `bars` in order, each with its caller's ticket (e.g. its bus entry id), which
    /// comes back with the bar in the [`BatchOutcome`](super::BatchOutcome) that settles it,
    /// and its revision (e.g. [`Revision::from_entry_id`]), which the sink compares with the
    /// stored row's. Same semantics as [`WriteCoordinator::submit_many`]; the bars in the
    /// error are the tail of the call, so the tickets of the last `rejected.len()` triples
    /// are not accepted.
    pub async fn submit_tagged(
        &self,
        bars: Vec<(Bar, Ticket, Revision)>,
    ) -> Result<(), SubmitError> {
        self.submit_items(
            bars.into_iter()
                .map(|(bar, ticket, revision)| Item {
                    bar,
                    ticket: Some(ticket),
                    revision,
                })
                .collect(),
        )
        .await
    }

    /// A fresh revision from the coordinator's generator (on its clock): larger than every
    /// one it gave before, and than those of earlier runs. For bars without a revision of
    /// their own.
    pub fn next_revision(&self) -> Revision {
        self.inner.revisions.next()
    }

    async fn submit_items(&self, items: Vec<Item>) -> Result<(), SubmitError> {
        if let Some((index, source)) = items
            .iter()
            .enumerate()
            .find_map(|(i, item)| item.bar.validate().err().map(|e| (i, e)))
        {
            return Err(SubmitError::InvalidBar {
                index,
                source,
                rejected: items.into_iter().map(|i| i.bar).collect(),
            });
        }
        let mut accepted = 0u64;
        let mut items = items.into_iter();
        let mut refused = None;
        for item in items.by_ref() {
            match self.inner.queue.put(item).await {
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
                let mut rejected = vec![e.into_inner().bar];
                rejected.extend(items.map(|i| i.bar));
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

    /// Whether the coordinator can write now: not stopped, the breaker closed and the
    /// dead-letter file taking appends. While it cannot, bars wait in the queue (none is
    /// lost) and the coordinator reports HARD.
    pub fn is_writable(&self) -> bool {
        !self.is_stopped()
            && matches!(self.circuit_state(), BreakerState::Closed { .. })
            && !self.inner.emitter.dead_letter_failing()
    }

    /// Whether some worker cannot append to the dead-letter file now (it keeps its bars and
    /// retries; the coordinator reports HARD with reason `dead_letter_failed`).
    pub fn is_dead_letter_failing(&self) -> bool {
        self.inner.emitter.dead_letter_failing()
    }

    /// Workers running now.
    pub fn workers_alive(&self) -> i64 {
        self.inner.alive.get()
    }

    /// What the coordinator did so far.
    pub fn stats(&self) -> CoordinatorStats {
        self.inner.shared.counters.snapshot()
    }

    /// Whether [`WriteCoordinator::stop`] or [`WriteCoordinator::stop_within`] has begun.
    pub fn is_stopped(&self) -> bool {
        self.inner.queue.is_closed()
    }
}
