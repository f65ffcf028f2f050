//! Injected time: a [`Clock`] trait, the system clock and a manual clock for tests.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of monotonic and wall-clock time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Monotonic time elapsed since the clock's own origin.
    fn elapsed(&self) -> Duration;
    /// Wall-clock time, Unix epoch seconds.
    fn unix_seconds(&self) -> f64;
}

/// The real clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A system clock whose monotonic origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    fn unix_seconds(&self) -> f64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

/// A clock that moves only when told; clones share the same time.
///
/// ```
/// use core_contracts::{Clock, ManualClock};
/// use std::time::Duration;
/// let clock = ManualClock::new(1_700_000_000.0);
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.elapsed(), Duration::from_millis(1500));
/// assert_eq!(clock.unix_seconds(), 1_700_000_001.5);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    elapsed: Duration,
    unix_origin: f64,
}

impl ManualClock {
    /// A manual clock at `unix_seconds` wall time and zero elapsed time.
    pub fn new(unix_seconds: f64) -> Self {
        Self {
            state: Arc::new(Mutex::new(ManualState {
                elapsed: Duration::ZERO,
                unix_origin: unix_seconds,
            })),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed += by;
    }
}

impl Clock for ManualClock {
    fn elapsed(&self) -> Duration {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed
    }

    fn unix_seconds(&self) -> f64 {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.unix_origin + state.elapsed.as_secs_f64()
    }
}
