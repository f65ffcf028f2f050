//! A [`Clock`] on tokio's time, so that `tokio::time::pause()`/`advance()` move the breaker
//! and the timestamps of feedback events together with every timer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use core_contracts::Clock;
use tokio::time::Instant;

/// Monotonic time from `tokio::time::Instant` (which a paused test runtime controls) and wall
/// time as the system time at creation plus that elapsed time.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Instant,
    unix_origin: f64,
}

impl TokioClock {
    /// A clock whose monotonic origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
            unix_origin: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
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
        self.unix_origin + self.elapsed().as_secs_f64()
    }
}
