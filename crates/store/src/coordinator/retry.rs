//! The retry policy of sink writes: how many attempts, how long to wait between them, and
//! which errors are worth retrying. Pure: the jitter draw is an argument.

use std::num::NonZeroU32;
use std::time::Duration;

use crate::sink::SinkError;

/// Retries with exponential backoff and jitter.
///
/// The wait after the `n`-th failed attempt is `min(initial * multiplier^(n-1), max)` scaled
/// by a factor drawn uniformly from `[jitter_min, jitter_max]` (50–100 % by default).
///
/// ```
/// use std::time::Duration;
/// use store::coordinator::RetryPolicy;
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.backoff(1, 1.0), Duration::from_millis(50));
/// assert_eq!(policy.backoff(3, 0.0), Duration::from_millis(100));
/// assert_eq!(policy.backoff(10, 1.0), Duration::from_millis(2000));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per batch, the first included (default 5).
    pub max_attempts: NonZeroU32,
    /// Wait after the first failed attempt, before jitter (default 50 ms).
    pub initial_backoff: Duration,
    /// Growth of the wait per failed attempt (default 2).
    pub multiplier: f64,
    /// Longest wait, before jitter (default 2000 ms).
    pub max_backoff: Duration,
    /// Smallest jitter factor (default 0.5).
    pub jitter_min: f64,
    /// Largest jitter factor (default 1.0).
    pub jitter_max: f64,
    /// Which errors may be retried (default [`SinkError::is_retryable`]).
    pub classifier: fn(&SinkError) -> bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            initial_backoff: Duration::from_millis(50),
            multiplier: 2.0,
            max_backoff: Duration::from_millis(2000),
            jitter_min: 0.5,
            jitter_max: 1.0,
            classifier: SinkError::is_retryable,
        }
    }
}

impl RetryPolicy {
    /// The wait after `failed_attempts` failures (1 for the first), with `unit` in `[0, 1]`
    /// choosing the jitter factor between `jitter_min` (0) and `jitter_max` (1).
    pub fn backoff(&self, failed_attempts: u32, unit: f64) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(63) as i32;
        let base = self.initial_backoff.as_secs_f64() * self.multiplier.powi(exponent);
        let capped = base.min(self.max_backoff.as_secs_f64());
        let unit = unit.clamp(0.0, 1.0);
        let factor = self.jitter_min + (self.jitter_max - self.jitter_min) * unit;
        Duration::from_secs_f64((capped * factor).max(0.0))
    }

    /// Whether to try again after `attempts_made` attempts ended with `error`.
    pub fn should_retry(&self, attempts_made: u32, error: &SinkError) -> bool {
        attempts_made < self.max_attempts.get() && (self.classifier)(error)
    }

    /// Checks the numbers: a positive multiplier and `0 <= jitter_min <= jitter_max`.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return Err(format!(
                "retry multiplier must be >= 1, got {}",
                self.multiplier
            ));
        }
        if !(0.0 <= self.jitter_min && self.jitter_min <= self.jitter_max) {
            return Err(format!(
                "retry jitter must satisfy 0 <= min <= max, got {}..{}",
                self.jitter_min, self.jitter_max
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn backoff_table() {
        let p = RetryPolicy::default();
        let cases = [
            (1, 1.0, ms(50)),
            (2, 1.0, ms(100)),
            (3, 1.0, ms(200)),
            (4, 1.0, ms(400)),
            (5, 1.0, ms(800)),
            (6, 1.0, ms(1600)),
            (7, 1.0, ms(2000)),
            (30, 1.0, ms(2000)),
            (1, 0.0, ms(25)),
            (2, 0.5, ms(75)),
            (7, 0.0, ms(1000)),
        ];
        for (n, unit, want) in cases {
            let got = p.backoff(n, unit);
            let diff = got.abs_diff(want);
            assert!(
                diff < Duration::from_micros(1),
                "attempt {n} unit {unit}: {got:?}"
            );
        }
    }

    #[test]
    fn jitter_stays_within_half_and_full() {
        let p = RetryPolicy::default();
        for unit in [-1.0, 0.0, 0.25, 0.999, 2.0] {
            let d = p.backoff(2, unit);
            assert!(d >= ms(50) && d <= ms(100), "{unit}: {d:?}");
        }
    }

    #[test]
    fn retries_transient_errors_up_to_max_attempts() {
        let p = RetryPolicy::default();
        let transient = SinkError::Transient("timeout".into());
        let permanent = SinkError::Permanent("bad row".into());
        let cases = [
            (1, &transient, true),
            (4, &transient, true),
            (5, &transient, false),
            (1, &permanent, false),
        ];
        for (attempts, error, want) in cases {
            assert_eq!(p.should_retry(attempts, error), want, "{attempts} {error}");
        }
    }

    #[test]
    fn classifier_is_pluggable() {
        let p = RetryPolicy {
            classifier: |_| true,
            ..RetryPolicy::default()
        };
        assert!(p.should_retry(1, &SinkError::Permanent("x".into())));
    }

    #[test]
    fn validate_rejects_bad_numbers() {
        let bad = [
            RetryPolicy {
                multiplier: 0.5,
                ..RetryPolicy::default()
            },
            RetryPolicy {
                jitter_min: 0.8,
                jitter_max: 0.5,
                ..RetryPolicy::default()
            },
        ];
        for p in bad {
            assert!(p.validate().is_err(), "{p:?}");
        }
        assert!(RetryPolicy::default().validate().is_ok());
    }
}
