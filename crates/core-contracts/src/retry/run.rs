//! The async retry loop (feature `tokio`): attempts an operation, waits out the [`Backoff`]
//! on tokio's timer between failures, and stops early when told to. The run of failures is
//! timed on the injected [`Clock`]; the waits are tokio timers, so the clock must move with
//! tokio's time (as [`crate::TokioClock`] does, paused tests included).

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use super::{Backoff, RetryPolicy};
use crate::Clock;

/// One failed attempt, as [`retry()`] reports it to its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Failed attempts so far, this one included.
    pub attempts: u32,
    /// The wait before the next attempt; `None` when the policy gives up.
    pub retry_in: Option<Duration>,
}

/// Why [`retry()`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    /// The caller judged the error not worth retrying.
    Permanent,
    /// The policy's retries or deadline are used up.
    Exhausted,
    /// The stop signal came during a wait.
    Stopped,
}

/// The last error of a [`retry()`] that gave up, with how many attempts it made and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaveUp<E> {
    /// The last attempt's error.
    pub error: E,
    /// Attempts made, the first included.
    pub attempts: u32,
    /// Why no further attempt was made.
    pub reason: GiveUpReason,
}

/// Sleeps `wait` on tokio's timer unless `stop` completes first; `true` when the wait ran
/// out, `false` when stopped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use core_contracts::retry::wait_unless;
/// use std::time::Duration;
/// assert!(wait_unless(Duration::from_secs(5), std::future::pending()).await);
/// assert!(!wait_unless(Duration::from_secs(5), async {}).await);
/// # }
/// ```
pub async fn wait_unless(wait: Duration, stop: impl Future<Output = ()>) -> bool {
    tokio::select! {
        biased;
        () = stop => false,
        () = tokio::time::sleep(wait) => true,
    }
}

/// Runs `attempt` until it succeeds, `on_failure` calls an error permanent (returns
/// `false`), the policy gives up, or `stop` completes during a wait.
///
/// `on_failure` hears of every failure with the wait that follows it (for telemetry and
/// logs) and decides whether the error may be retried. Jitter is drawn afresh per wait.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use core_contracts::TokioClock;
/// use core_contracts::retry::{GiveUpReason, RetryPolicy, retry};
/// use std::time::Duration;
/// let policy = RetryPolicy {
///     max_retries: Some(2),
///     ..RetryPolicy::doubling(Duration::from_millis(100), Duration::from_secs(1))
/// };
/// let start = tokio::time::Instant::now();
/// let mut calls = 0;
/// let result: Result<(), _> = retry(
///     &policy,
///     &TokioClock::new(),
///     std::future::pending(),
///     || { calls += 1; async { Err("down") } },
///     |_, _| true,
/// )
/// .await;
/// let gave_up = result.expect_err("always down");
/// assert_eq!((gave_up.attempts, gave_up.reason), (3, GiveUpReason::Exhausted));
/// assert_eq!(start.elapsed(), Duration::from_millis(300));
/// assert_eq!(calls, 3);
/// # }
/// ```
pub async fn retry<T, E, Fut>(
    policy: &RetryPolicy,
    clock: &dyn Clock,
    stop: impl Future<Output = ()>,
    mut attempt: impl FnMut() -> Fut,
    mut on_failure: impl FnMut(&E, Failure) -> bool,
) -> Result<T, GaveUp<E>>
where
    Fut: Future<Output = Result<T, E>>,
{
    let mut stop = pin!(stop);
    let mut backoff = Backoff::new(*policy);
    loop {
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let retry_in = backoff.fail(clock.elapsed(), rand::random::<f64>());
        let attempts = backoff.failures();
        let give_up = |error, reason| GaveUp {
            error,
            attempts,
            reason,
        };
        if !on_failure(&error, Failure { attempts, retry_in }) {
            return Err(give_up(error, GiveUpReason::Permanent));
        }
        let Some(wait) = retry_in else {
            return Err(give_up(error, GiveUpReason::Exhausted));
        };
        if !wait_unless(wait, stop.as_mut()).await {
            return Err(give_up(error, GiveUpReason::Stopped));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokioClock;
    use tokio::time::Instant;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[tokio::test(start_paused = true)]
    async fn waits_the_schedule_between_attempts_and_returns_the_success() {
        let start = Instant::now();
        let mut calls = 0u32;
        let mut heard = Vec::new();
        let result = retry(
            &RetryPolicy::doubling(ms(100), ms(250)),
            &TokioClock::new(),
            std::future::pending(),
            || {
                calls += 1;
                let n = calls;
                async move { if n < 4 { Err(n) } else { Ok("up") } }
            },
            |_, failure| {
                heard.push(failure);
                true
            },
        )
        .await;
        assert_eq!(result, Ok("up"));
        assert_eq!(start.elapsed(), ms(100 + 200 + 250));
        let waits: Vec<_> = heard.iter().map(|f| (f.attempts, f.retry_in)).collect();
        assert_eq!(
            waits,
            [(1, Some(ms(100))), (2, Some(ms(200))), (3, Some(ms(250)))]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_error_is_not_retried() {
        let result: Result<(), _> = retry(
            &RetryPolicy::default(),
            &TokioClock::new(),
            std::future::pending(),
            || async { Err("bad request") },
            |_, _| false,
        )
        .await;
        let gave_up = result.expect_err("permanent");
        assert_eq!(
            (gave_up.attempts, gave_up.reason),
            (1, GiveUpReason::Permanent)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_during_a_wait_ends_it_at_once() {
        let start = Instant::now();
        let stop = tokio::time::sleep(ms(150));
        let result: Result<(), _> = retry(
            &RetryPolicy::doubling(ms(100), ms(1000)),
            &TokioClock::new(),
            stop,
            || async { Err("down") },
            |_, _| true,
        )
        .await;
        let gave_up = result.expect_err("stopped");
        assert_eq!(
            (gave_up.attempts, gave_up.reason),
            (2, GiveUpReason::Stopped)
        );
        assert_eq!(start.elapsed(), ms(150));
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_is_read_on_the_injected_clock() {
        let policy = RetryPolicy {
            give_up_after: Some(ms(250)),
            ..RetryPolicy::doubling(ms(100), ms(100))
        };
        let result: Result<(), _> = retry(
            &policy,
            &TokioClock::new(),
            std::future::pending(),
            || async { Err("down") },
            |_, _| true,
        )
        .await;
        let gave_up = result.expect_err("deadline");
        assert_eq!(
            (gave_up.attempts, gave_up.reason),
            (4, GiveUpReason::Exhausted)
        );
    }
}
