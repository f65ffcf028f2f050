//! A per-coordinator sequence number shared by every emitter of one coordinator.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonic counter; clones share it.
///
/// Seed it from the wall clock ([`Sequence::from_unix_seconds`]) so that a restarted
/// coordinator continues above the numbers of its predecessor.
#[derive(Debug, Clone, Default)]
pub struct Sequence(Arc<AtomicU64>);

impl Sequence {
    /// A counter whose next value is `first`.
    pub fn starting_at(first: u64) -> Self {
        Self(Arc::new(AtomicU64::new(first)))
    }

    /// A counter whose next value is `unix_seconds` in microseconds.
    pub fn from_unix_seconds(unix_seconds: f64) -> Self {
        Self::starting_at((unix_seconds.max(0.0) * 1e6) as u64)
    }

    /// Takes the next number.
    pub fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }

    /// The number the next call to [`Sequence::next`] returns.
    pub fn peek(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
