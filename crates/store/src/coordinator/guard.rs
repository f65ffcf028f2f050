//! The breaker shared by a coordinator's workers: the pure machine behind a short lock, read
//! against the injected clock, with its transitions turned into feedback, a gauge and a
//! wake-up for workers waiting on it. A probe is held by a [`Permit`] that gives the probe
//! slot back if dropped without an outcome (a cancelled or panicking write).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use core_contracts::Clock;
use core_contracts::breaker::{Admission, BreakerState, CircuitBreaker, Transition};
use tokio::sync::watch;

use super::signals::FeedbackEmitter;
use super::ticket::Item;
use crate::queue::BoundedQueue;
use crate::telemetry::{CoordLabels, CoordinatorMetrics};

pub(crate) struct BreakerGuard {
    breaker: Mutex<CircuitBreaker>,
    clock: Arc<dyn Clock>,
    changed: watch::Sender<u64>,
    emitter: Arc<FeedbackEmitter>,
    queue: BoundedQueue<Item>,
    metrics: CoordinatorMetrics,
    labels: CoordLabels,
}

/// The right to write once, as a normal write or as the probe.
pub(crate) struct Permit<'a> {
    guard: &'a BreakerGuard,
    probe: bool,
    settled: bool,
}

impl Permit<'_> {
    /// The write reached the sink (success, or an error a retry cannot cure).
    pub(crate) fn success(mut self) {
        self.settled = true;
        let t = self.guard.lock().on_success(self.probe);
        self.guard.handle(t);
    }

    /// The write failed for a reason a retry may cure.
    pub(crate) fn failure(mut self) {
        self.settled = true;
        let now = self.guard.clock.elapsed();
        let t = self.guard.lock().on_failure(self.probe, now);
        self.guard.handle(t);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.guard.lock().release_probe(self.probe);
            self.guard.changed.send_modify(|n| *n += 1);
        }
    }
}

pub(crate) enum Admit<'a> {
    Go(Permit<'a>),
    Wait(Option<std::time::Duration>),
}

impl BreakerGuard {
    pub(crate) fn new(
        breaker: CircuitBreaker,
        clock: Arc<dyn Clock>,
        emitter: Arc<FeedbackEmitter>,
        queue: BoundedQueue<Item>,
        metrics: CoordinatorMetrics,
        coord_id: String,
    ) -> Self {
        let labels = CoordLabels { coord_id };
        metrics.circuit_state.get_or_create(&labels).set(0);
        Self {
            breaker: Mutex::new(breaker),
            clock,
            changed: watch::Sender::new(0),
            emitter,
            queue,
            metrics,
            labels,
        }
    }

    pub(crate) fn state(&self) -> BreakerState {
        self.lock().state()
    }

    /// A receiver that wakes on every state change.
    pub(crate) fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    pub(crate) fn admit(&self) -> Admit<'_> {
        let now = self.clock.elapsed();
        let (admission, t) = self.lock().admit(now);
        self.handle(t);
        match admission {
            Admission::Allowed => Admit::Go(Permit {
                guard: self,
                probe: false,
                settled: false,
            }),
            Admission::Probe => Admit::Go(Permit {
                guard: self,
                probe: true,
                settled: false,
            }),
            Admission::Rejected { retry_in } => Admit::Wait(retry_in),
        }
    }

    fn handle(&self, transition: Option<Transition>) {
        let Some(transition) = transition else {
            return;
        };
        let state = self.state();
        self.metrics
            .circuit_state
            .get_or_create(&self.labels)
            .set(state.as_gauge());
        match transition {
            Transition::Opened => {
                tracing::warn!(coord_id = %self.labels.coord_id, "circuit breaker opened");
                self.emitter
                    .on_circuit(true, self.queue.len(), self.queue.level());
            }
            Transition::HalfOpened => {
                tracing::info!(coord_id = %self.labels.coord_id, "circuit breaker half-open, probing");
            }
            Transition::Closed => {
                tracing::info!(coord_id = %self.labels.coord_id, "circuit breaker closed");
                self.emitter
                    .on_circuit(false, self.queue.len(), self.queue.level());
            }
        }
        self.changed.send_modify(|n| *n += 1);
    }

    fn lock(&self) -> MutexGuard<'_, CircuitBreaker> {
        self.breaker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
