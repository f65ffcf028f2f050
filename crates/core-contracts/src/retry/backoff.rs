//! One run of failures under a [`RetryPolicy`]: counts them, remembers when the run began,
//! and says how long to wait before the next attempt or that it is time to give up. Pure:
//! `now` (monotonic, from an injected clock) and the jitter draw are arguments.

use std::time::Duration;

use super::RetryPolicy;

/// The backoff schedule of one run of failures; a success ends the run.
///
/// ```
/// use core_contracts::retry::{Backoff, RetryPolicy};
/// use std::time::Duration;
/// let ms = Duration::from_millis;
/// let mut backoff = Backoff::new(RetryPolicy::doubling(ms(100), ms(300)));
/// assert_eq!(backoff.fail(ms(0), 0.5), Some(ms(100)));
/// assert_eq!(backoff.fail(ms(100), 0.5), Some(ms(200)));
/// assert_eq!(backoff.fail(ms(300), 0.5), Some(ms(300)));
/// assert_eq!(backoff.succeed(), 3);
/// assert_eq!(backoff.fail(ms(900), 0.5), Some(ms(100)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    policy: RetryPolicy,
    failures: u32,
    failing_since: Option<Duration>,
}

impl Backoff {
    /// A schedule with no failure yet.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            policy,
            failures: 0,
            failing_since: None,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Failures in the current run.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a failure at `now`: the wait before the next attempt (jitter drawn by `unit`
    /// in `[0, 1]`), or `None` when the policy gives up (retries used up, or the run has
    /// lasted past its deadline).
    pub fn fail(&mut self, now: Duration, unit: f64) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        let since = *self.failing_since.get_or_insert(now);
        if self.policy.exhausted(self.failures) || self.policy.gives_up(now.saturating_sub(since)) {
            return None;
        }
        Some(self.policy.backoff(self.failures, unit))
    }

    /// Records a success: the run ends; returns the failures it held.
    pub fn succeed(&mut self) -> u32 {
        self.failing_since = None;
        std::mem::take(&mut self.failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn gives_up_when_the_retries_are_used_up() {
        let mut b = Backoff::new(RetryPolicy {
            max_retries: Some(2),
            ..RetryPolicy::doubling(ms(10), ms(100))
        });
        assert_eq!(b.fail(ms(0), 0.0), Some(ms(10)));
        assert_eq!(b.fail(ms(10), 0.0), Some(ms(20)));
        assert_eq!(b.fail(ms(30), 0.0), None);
        assert_eq!(b.failures(), 3);
    }

    #[test]
    fn gives_up_past_the_deadline_counted_from_the_first_failure() {
        let mut b = Backoff::new(RetryPolicy {
            give_up_after: Some(ms(1000)),
            ..RetryPolicy::doubling(ms(10), ms(100))
        });
        assert!(b.fail(ms(500), 0.0).is_some());
        assert!(b.fail(ms(1500), 0.0).is_some(), "1000 ms is not past");
        assert_eq!(b.fail(ms(1501), 0.0), None);
    }

    #[test]
    fn a_success_starts_a_new_run() {
        let mut b = Backoff::new(RetryPolicy {
            give_up_after: Some(ms(1000)),
            ..RetryPolicy::doubling(ms(10), ms(100))
        });
        b.fail(ms(0), 0.0);
        b.fail(ms(900), 0.0);
        assert_eq!(b.succeed(), 2);
        assert_eq!(b.succeed(), 0);
        assert_eq!(b.fail(ms(5000), 0.0), Some(ms(10)));
    }
}
