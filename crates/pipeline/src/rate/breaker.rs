//! A per-provider circuit breaker: pure state transitions on a monotonic reading.

use std::time::Duration;

/// The externally visible state of a [`Breaker`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests flow.
    Closed,
    /// Requests are refused until the open period ends.
    Open,
    /// One probe request is let through; its outcome closes or reopens the breaker.
    HalfOpen,
}

impl BreakerState {
    /// The state's name: `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half_open",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Closed { failures: u32 },
    Open { until: Duration },
    HalfOpen { probe_since: Option<Duration> },
}

/// Opens after `threshold` consecutive failures, refuses for `open_for`, then lets one probe
/// through; a probe that never reports back is replaced after another `open_for`.
///
/// ```
/// use pipeline::rate::{Breaker, BreakerState};
/// use std::time::Duration;
/// let mut breaker = Breaker::new(2, Duration::from_secs(30));
/// breaker.on_failure(Duration::ZERO);
/// breaker.on_failure(Duration::ZERO);
/// assert_eq!(breaker.admit(Duration::from_secs(10)), Err(Duration::from_secs(20)));
/// assert_eq!(breaker.admit(Duration::from_secs(30)), Ok(()));
/// assert_eq!(breaker.state(Duration::from_secs(30)), BreakerState::HalfOpen);
/// breaker.on_success();
/// assert_eq!(breaker.state(Duration::from_secs(30)), BreakerState::Closed);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Breaker {
    threshold: u32,
    open_for: Duration,
    phase: Phase,
}

impl Breaker {
    /// A closed breaker; `threshold` is at least 1.
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            phase: Phase::Closed { failures: 0 },
        }
    }

    /// Lets a request through, or says how long until one may try.
    pub fn admit(&mut self, now: Duration) -> Result<(), Duration> {
        match self.phase {
            Phase::Closed { .. } => Ok(()),
            Phase::Open { until } if now < until => Err(until - now),
            Phase::HalfOpen {
                probe_since: Some(since),
            } if now.saturating_sub(since) < self.open_for => {
                Err(self.open_for - now.saturating_sub(since))
            }
            Phase::Open { .. } | Phase::HalfOpen { .. } => {
                self.phase = Phase::HalfOpen {
                    probe_since: Some(now),
                };
                Ok(())
            }
        }
    }

    /// Records a success: the breaker closes and forgets earlier failures.
    pub fn on_success(&mut self) {
        self.phase = Phase::Closed { failures: 0 };
    }

    /// Records a failure: the breaker opens at the threshold, or at once when half open.
    pub fn on_failure(&mut self, now: Duration) {
        self.phase = match self.phase {
            Phase::Closed { failures } if failures + 1 < self.threshold => Phase::Closed {
                failures: failures + 1,
            },
            _ => Phase::Open {
                until: now + self.open_for,
            },
        };
    }

    /// The state at `now` (an open breaker whose period has ended reads as half open).
    pub fn state(&self, now: Duration) -> BreakerState {
        match self.phase {
            Phase::Closed { .. } => BreakerState::Closed,
            Phase::Open { until } if now < until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[derive(Debug, Clone, Copy)]
    enum Step {
        Fail(u64),
        Succeed,
        Admit(u64, Result<(), Duration>),
        State(u64, BreakerState),
    }

    #[test]
    fn transitions_follow_the_table() {
        use Step::*;
        let scripts: &[(&str, &[Step])] = &[
            (
                "stays closed below the threshold",
                &[
                    Fail(0),
                    Fail(0),
                    Admit(0, Ok(())),
                    State(0, BreakerState::Closed),
                ],
            ),
            (
                "opens at the threshold and refuses until the period ends",
                &[
                    Fail(0),
                    Fail(0),
                    Fail(1),
                    State(1, BreakerState::Open),
                    Admit(11, Err(s(20))),
                    Admit(31, Ok(())),
                    State(31, BreakerState::HalfOpen),
                ],
            ),
            (
                "a success resets the failure count",
                &[
                    Fail(0),
                    Fail(0),
                    Succeed,
                    Fail(0),
                    Fail(0),
                    State(0, BreakerState::Closed),
                ],
            ),
            (
                "half open lets one probe through at a time",
                &[
                    Fail(0),
                    Fail(0),
                    Fail(0),
                    Admit(30, Ok(())),
                    Admit(31, Err(s(29))),
                    Admit(60, Ok(())),
                ],
            ),
            (
                "a failed probe reopens",
                &[
                    Fail(0),
                    Fail(0),
                    Fail(0),
                    Admit(30, Ok(())),
                    Fail(32),
                    State(33, BreakerState::Open),
                    Admit(33, Err(s(29))),
                ],
            ),
            (
                "a successful probe closes",
                &[
                    Fail(0),
                    Fail(0),
                    Fail(0),
                    Admit(30, Ok(())),
                    Succeed,
                    Admit(30, Ok(())),
                    State(30, BreakerState::Closed),
                ],
            ),
        ];
        for (name, steps) in scripts {
            let mut breaker = Breaker::new(3, s(30));
            for step in *steps {
                match *step {
                    Fail(at) => breaker.on_failure(s(at)),
                    Succeed => breaker.on_success(),
                    Admit(at, expected) => {
                        assert_eq!(breaker.admit(s(at)), expected, "{name}: {step:?}");
                    }
                    State(at, expected) => {
                        assert_eq!(breaker.state(s(at)), expected, "{name}: {step:?}");
                    }
                }
            }
        }
    }
}
