//! The retry policy: how long to wait between attempts and when (if ever) to give up. Pure:
//! the jitter draw, the failures so far and the time spent failing are arguments.

use std::time::Duration;

/// Exponential backoff with jitter, an optional cap on retries and an optional deadline.
///
/// The wait after the `n`-th failed attempt is `min(initial * multiplier^(n-1), max)` scaled
/// by a factor drawn uniformly from `[jitter_min, jitter_max]` (50–100 % by default).
///
/// ```
/// use std::time::Duration;
/// use core_contracts::retry::RetryPolicy;
/// let policy = RetryPolicy::default();
/// assert_eq!(policy.backoff(1, 1.0), Duration::from_millis(50));
/// assert_eq!(policy.backoff(3, 0.0), Duration::from_millis(100));
/// assert_eq!(policy.backoff(10, 1.0), Duration::from_millis(2000));
/// let reconnect = RetryPolicy::doubling(Duration::from_millis(100), Duration::from_secs(5));
/// assert_eq!(reconnect.backoff(3, 0.3), Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
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
    /// Retries after the first attempt at most; `None` (the default) sets no limit.
    pub max_retries: Option<u32>,
    /// A run of failures longer than this is given up; `None` (the default) sets no
    /// deadline.
    pub give_up_after: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(50),
            multiplier: 2.0,
            max_backoff: Duration::from_millis(2000),
            jitter_min: 0.5,
            jitter_max: 1.0,
            max_retries: None,
            give_up_after: None,
        }
    }
}

impl RetryPolicy {
    /// `initial` doubling to `max`, without jitter, retrying for ever.
    pub const fn doubling(initial: Duration, max: Duration) -> Self {
        Self {
            initial_backoff: initial,
            multiplier: 2.0,
            max_backoff: max,
            jitter_min: 1.0,
            jitter_max: 1.0,
            max_retries: None,
            give_up_after: None,
        }
    }

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

    /// Whether a run of failures that has lasted `failing_for` is given up.
    pub fn gives_up(&self, failing_for: Duration) -> bool {
        self.give_up_after.is_some_and(|limit| failing_for > limit)
    }

    /// Whether `failed_attempts` failures have used up every retry.
    pub fn exhausted(&self, failed_attempts: u32) -> bool {
        self.max_retries.is_some_and(|max| failed_attempts > max)
    }

    /// Checks the numbers: a multiplier `>= 1` and `0 <= jitter_min <= jitter_max`.
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
    fn doubling_has_no_jitter() {
        let p = RetryPolicy::doubling(ms(100), ms(5000));
        let cases = [(1, ms(100)), (2, ms(200)), (6, ms(3200)), (7, ms(5000))];
        for (n, want) in cases {
            for unit in [0.0, 0.7, 1.0] {
                assert_eq!(p.backoff(n, unit), want, "attempt {n} unit {unit}");
            }
        }
    }

    #[test]
    fn never_gives_up_by_default_and_after_the_deadline_when_set() {
        let never = RetryPolicy::default();
        let deadline = RetryPolicy {
            give_up_after: Some(Duration::from_secs(30)),
            ..RetryPolicy::default()
        };
        let cases = [
            (&never, Duration::ZERO, false),
            (&never, Duration::from_secs(86_400 * 365), false),
            (&deadline, Duration::from_secs(29), false),
            (&deadline, Duration::from_secs(30), false),
            (&deadline, Duration::from_millis(30_001), true),
        ];
        for (p, failing_for, want) in cases {
            assert_eq!(p.gives_up(failing_for), want, "{p:?} {failing_for:?}");
        }
    }

    #[test]
    fn max_retries_counts_retries_after_the_first_attempt() {
        let three = RetryPolicy {
            max_retries: Some(3),
            ..RetryPolicy::default()
        };
        let cases = [(1, false), (3, false), (4, true)];
        for (failures, want) in cases {
            assert_eq!(three.exhausted(failures), want, "{failures}");
        }
        assert!(!RetryPolicy::default().exhausted(u32::MAX));
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
