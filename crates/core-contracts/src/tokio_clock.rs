//! A [`Clock`] on tokio's time (feature `tokio`), so that `tokio::time::pause()`/`advance()`
//! move the token bucket, the breakers, the staleness windows and the timestamps of feedback
//! events together with every timer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::Clock;

/// A clock whose monotonic time is tokio's [`Instant`] and whose wall time is the system time
/// at construction plus the tokio time elapsed since.
///
/// Under `tokio::time::pause()` both halves stand still until the test advances them, which
/// keeps sleeps (tokio timers) and readings of the clock in step.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use core_contracts::{Clock, TokioClock};
/// use std::time::Duration;
/// let clock = TokioClock::new();
/// tokio::time::advance(Duration::from_secs(2)).await;
/// assert_eq!(clock.elapsed(), Duration::from_secs(2));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Instant,
    unix_origin: f64,
}

impl TokioClock {
    /// A clock whose monotonic origin is tokio's now and whose wall time starts at the
    /// system time.
    pub fn new() -> Self {
        let unix_origin = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Self::starting_at(unix_origin)
    }

    /// A clock whose monotonic origin is tokio's now and whose wall time starts at
    /// `unix_seconds`.
    pub fn starting_at(unix_seconds: f64) -> Self {
        Self {
            origin: Instant::now(),
            unix_origin: unix_seconds,
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    fn unix_seconds(&self) -> f64 {
        self.unix_origin + self.origin.elapsed().as_secs_f64()
    }
}
