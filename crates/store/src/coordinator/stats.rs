//! Counters of one coordinator, kept for `stop`'s report and `health`.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a coordinator did with the bars it accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoordinatorStats {
    /// Bars accepted by `submit` / `submit_many`.
    pub submitted: u64,
    /// Bars written to the sink.
    pub written: u64,
    /// Bars written to the dead-letter file (dropped ones included).
    pub dead_lettered: u64,
    /// Bars removed from a full queue by `drop_oldest` (then dead-lettered).
    pub dropped: u64,
    /// Bars neither written nor dead-lettered (the dead-letter file itself failed).
    pub lost: u64,
    /// Bars neither written nor dead-lettered because a stop's grace period ended and the
    /// caller chose [`Leftover::Abandon`](super::Leftover::Abandon): their sources keep them
    /// (e.g. bus entries left pending for redelivery).
    pub abandoned: u64,
    /// Worker restarts after a panic or a fatal error.
    pub worker_restarts: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) submitted: AtomicU64,
    pub(crate) written: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) abandoned: AtomicU64,
    pub(crate) worker_restarts: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CoordinatorStats {
        CoordinatorStats {
            submitted: self.submitted.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            lost: self.lost.load(Ordering::Relaxed),
            abandoned: self.abandoned.load(Ordering::Relaxed),
            worker_restarts: self.worker_restarts.load(Ordering::Relaxed),
        }
    }
}
