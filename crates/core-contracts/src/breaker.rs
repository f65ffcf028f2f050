//! The circuit breaker as a pure state machine over an explicit `now` (monotonic time from an
//! injected clock): closed → open after `failure_threshold` consecutive failures; open →
//! half-open after `open_for`, admitting a single probe; the probe's success closes it, its
//! failure re-opens it. A probe that never reports back is given up on explicitly
//! ([`CircuitBreaker::release_probe`]) or, with a `probe_timeout`, replaced by the next caller.
//!
//! The store guards its sink writes with one (SPEC §4.2: threshold 5, half-open after 60 s,
//! one probe at a time); the pipeline guards each provider's submits with another. Each side
//! keeps its settings and its telemetry; the transitions are this file's.

use std::num::NonZeroU32;
use std::time::Duration;

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker (default 5).
    pub failure_threshold: NonZeroU32,
    /// Time the breaker stays open before a probe (default 60 s).
    pub open_for: Duration,
    /// A probe that has not reported back after this long is replaced by the next caller;
    /// `None` (the default) keeps it until it reports or is released.
    pub probe_timeout: Option<Duration>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            open_for: Duration::from_secs(60),
            probe_timeout: None,
        }
    }
}

/// Where the breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow; `failures` consecutive failures so far.
    Closed {
        /// Consecutive failures.
        failures: u32,
    },
    /// Calls are refused until `until`.
    Open {
        /// Monotonic time at which a probe is allowed.
        until: Duration,
    },
    /// One probe may run; `probe_since` is when the probe in flight (if any) was admitted.
    HalfOpen {
        /// Admission time of the probe in flight, `None` while the slot is free.
        probe_since: Option<Duration>,
    },
}

impl BreakerState {
    /// The gauge value of a circuit-state metric: 0 closed, 1 open, 2 half-open.
    pub fn as_gauge(self) -> i64 {
        match self {
            Self::Closed { .. } => 0,
            Self::Open { .. } => 1,
            Self::HalfOpen { .. } => 2,
        }
    }

    /// The state's name: `closed`, `open` or `half_open`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed { .. } => "closed",
            Self::Open { .. } => "open",
            Self::HalfOpen { .. } => "half_open",
        }
    }
}

/// Whether a call may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Allowed,
    /// Go ahead as the single probe; report the outcome with `probe = true`.
    Probe,
    /// Wait: `retry_in` until a probe is due, or `None` while another probe runs with no
    /// timeout.
    Rejected {
        /// Time until the breaker admits a probe, if known.
        retry_in: Option<Duration>,
    },
}

/// A change of state worth telling the world about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Closed or half-open → open.
    Opened,
    /// Open → half-open.
    HalfOpened,
    /// Half-open → closed.
    Closed,
}

/// The breaker state machine.
///
/// ```
/// use core_contracts::breaker::{Admission, BreakerConfig, CircuitBreaker, Transition};
/// use std::num::NonZeroU32;
/// use std::time::Duration;
/// let s = Duration::from_secs;
/// let mut breaker = CircuitBreaker::new(BreakerConfig {
///     failure_threshold: NonZeroU32::new(2).expect("non-zero"),
///     open_for: s(30),
///     probe_timeout: None,
/// });
/// breaker.on_failure(false, s(0));
/// assert_eq!(breaker.on_failure(false, s(0)), Some(Transition::Opened));
/// assert_eq!(breaker.admit(s(10)).0, Admission::Rejected { retry_in: Some(s(20)) });
/// assert_eq!(breaker.admit(s(30)), (Admission::Probe, Some(Transition::HalfOpened)));
/// assert_eq!(breaker.on_success(true), Some(Transition::Closed));
/// ```
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: BreakerState,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: BreakerState::Closed { failures: 0 },
        }
    }

    /// The settings in force.
    pub fn config(&self) -> BreakerConfig {
        self.config
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// The state as seen at `now`: an open breaker whose period has ended reads as half-open
    /// with its probe slot free.
    pub fn state_at(&self, now: Duration) -> BreakerState {
        match self.state {
            BreakerState::Open { until } if now >= until => {
                BreakerState::HalfOpen { probe_since: None }
            }
            state => state,
        }
    }

    /// Asks to call at `now`.
    pub fn admit(&mut self, now: Duration) -> (Admission, Option<Transition>) {
        match self.state {
            BreakerState::Closed { .. } => (Admission::Allowed, None),
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen {
                    probe_since: Some(now),
                };
                (Admission::Probe, Some(Transition::HalfOpened))
            }
            BreakerState::Open { until } => (
                Admission::Rejected {
                    retry_in: Some(until - now),
                },
                None,
            ),
            BreakerState::HalfOpen { probe_since: None } => {
                self.state = BreakerState::HalfOpen {
                    probe_since: Some(now),
                };
                (Admission::Probe, None)
            }
            BreakerState::HalfOpen {
                probe_since: Some(since),
            } => match self.config.probe_timeout {
                Some(timeout) if now.saturating_sub(since) >= timeout => {
                    self.state = BreakerState::HalfOpen {
                        probe_since: Some(now),
                    };
                    (Admission::Probe, None)
                }
                Some(timeout) => (
                    Admission::Rejected {
                        retry_in: Some(timeout - now.saturating_sub(since)),
                    },
                    None,
                ),
                None => (Admission::Rejected { retry_in: None }, None),
            },
        }
    }

    /// Reports a call that reached its target (it succeeded, or failed for a reason a retry
    /// cannot cure); `probe` tells whether it was admitted as the probe.
    pub fn on_success(&mut self, probe: bool) -> Option<Transition> {
        match self.state {
            BreakerState::Closed { .. } => {
                self.state = BreakerState::Closed { failures: 0 };
                None
            }
            BreakerState::HalfOpen { .. } if probe => {
                self.state = BreakerState::Closed { failures: 0 };
                Some(Transition::Closed)
            }
            _ => None,
        }
    }

    /// Reports a call that failed for a reason a retry may cure, at `now`.
    pub fn on_failure(&mut self, probe: bool, now: Duration) -> Option<Transition> {
        match self.state {
            BreakerState::Closed { failures } => {
                let failures = failures + 1;
                if failures >= self.config.failure_threshold.get() {
                    self.open(now)
                } else {
                    self.state = BreakerState::Closed { failures };
                    None
                }
            }
            BreakerState::HalfOpen { .. } if probe => self.open(now),
            _ => None,
        }
    }

    /// Gives the probe slot back without an outcome (the probe was abandoned).
    pub fn release_probe(&mut self, probe: bool) {
        if probe && matches!(self.state, BreakerState::HalfOpen { .. }) {
            self.state = BreakerState::HalfOpen { probe_since: None };
        }
    }

    fn open(&mut self, now: Duration) -> Option<Transition> {
        self.state = BreakerState::Open {
            until: now + self.config.open_for,
        };
        Some(Transition::Opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig::default())
    }

    fn open_at_zero(mut b: CircuitBreaker) -> CircuitBreaker {
        for _ in 0..b.config().failure_threshold.get() {
            b.on_failure(false, Duration::ZERO);
        }
        b
    }

    #[test]
    fn opens_after_threshold_consecutive_failures() {
        let mut b = breaker();
        for _ in 0..4 {
            assert_eq!(b.on_failure(false, S), None);
        }
        assert_eq!(b.on_failure(false, S), Some(Transition::Opened));
        assert_eq!(b.state(), BreakerState::Open { until: 61 * S });
    }

    #[test]
    fn success_resets_the_failure_count() {
        let mut b = breaker();
        for _ in 0..4 {
            b.on_failure(false, S);
        }
        b.on_success(false);
        for _ in 0..4 {
            assert_eq!(b.on_failure(false, S), None);
        }
        assert_eq!(b.state(), BreakerState::Closed { failures: 4 });
    }

    #[test]
    fn open_rejects_until_due_then_admits_one_probe() {
        let mut b = open_at_zero(breaker());
        let cases = [
            (
                10 * S,
                Admission::Rejected {
                    retry_in: Some(50 * S),
                },
                None,
            ),
            (59 * S, Admission::Rejected { retry_in: Some(S) }, None),
            (60 * S, Admission::Probe, Some(Transition::HalfOpened)),
            (60 * S, Admission::Rejected { retry_in: None }, None),
            (500 * S, Admission::Rejected { retry_in: None }, None),
        ];
        for (now, admission, transition) in cases {
            assert_eq!(b.admit(now), (admission, transition), "at {now:?}");
        }
    }

    #[test]
    fn with_a_probe_timeout_a_silent_probe_is_replaced() {
        let mut b = open_at_zero(CircuitBreaker::new(BreakerConfig {
            probe_timeout: Some(60 * S),
            ..BreakerConfig::default()
        }));
        let cases = [
            (60 * S, Admission::Probe, Some(Transition::HalfOpened)),
            (
                61 * S,
                Admission::Rejected {
                    retry_in: Some(59 * S),
                },
                None,
            ),
            (120 * S, Admission::Probe, None),
            (
                121 * S,
                Admission::Rejected {
                    retry_in: Some(59 * S),
                },
                None,
            ),
        ];
        for (now, admission, transition) in cases {
            assert_eq!(b.admit(now), (admission, transition), "at {now:?}");
        }
    }

    #[test]
    fn probe_success_closes() {
        let mut b = open_at_zero(breaker());
        assert_eq!(b.admit(60 * S).0, Admission::Probe);
        assert_eq!(b.on_success(false), None, "a stale success is no probe");
        assert_eq!(b.on_success(true), Some(Transition::Closed));
        assert_eq!(b.admit(60 * S), (Admission::Allowed, None));
    }

    #[test]
    fn probe_failure_reopens_for_another_period() {
        let mut b = open_at_zero(breaker());
        assert_eq!(b.admit(60 * S).0, Admission::Probe);
        assert_eq!(
            b.on_failure(false, 61 * S),
            None,
            "a stale failure is no probe"
        );
        assert_eq!(b.on_failure(true, 61 * S), Some(Transition::Opened));
        assert_eq!(b.state(), BreakerState::Open { until: 121 * S });
    }

    #[test]
    fn released_probe_slot_admits_the_next_probe() {
        let mut b = open_at_zero(breaker());
        assert_eq!(b.admit(60 * S).0, Admission::Probe);
        b.release_probe(true);
        assert_eq!(b.admit(60 * S), (Admission::Probe, None));
    }

    #[test]
    fn an_open_breaker_past_its_period_reads_half_open() {
        let b = open_at_zero(breaker());
        assert_eq!(b.state_at(59 * S), BreakerState::Open { until: 60 * S });
        assert_eq!(
            b.state_at(60 * S),
            BreakerState::HalfOpen { probe_since: None }
        );
    }

    #[test]
    fn gauge_values() {
        let cases = [
            (BreakerState::Closed { failures: 3 }, 0, "closed"),
            (BreakerState::Open { until: S }, 1, "open"),
            (
                BreakerState::HalfOpen {
                    probe_since: Some(S),
                },
                2,
                "half_open",
            ),
        ];
        for (state, gauge, name) in cases {
            assert_eq!((state.as_gauge(), state.as_str()), (gauge, name));
        }
    }

    /// A breaker whose callers never say which call was the probe (every outcome counts as
    /// the probe's) and whose silent probe is replaced after another open period: the
    /// pipeline's provider breaker.
    #[test]
    fn provider_breaker_transitions_follow_the_table() {
        #[derive(Debug, Clone, Copy)]
        enum Step {
            Fail(u32),
            Succeed,
            Admit(u32, Option<u64>),
            State(u32, &'static str),
        }
        use Step::*;
        let scripts: &[(&str, &[Step])] = &[
            (
                "stays closed below the threshold",
                &[Fail(0), Fail(0), Admit(0, None), State(0, "closed")],
            ),
            (
                "opens at the threshold and refuses until the period ends",
                &[
                    Fail(0),
                    Fail(0),
                    Fail(1),
                    State(1, "open"),
                    Admit(11, Some(20)),
                    Admit(31, None),
                    State(31, "half_open"),
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
                    State(0, "closed"),
                ],
            ),
            (
                "half open lets one probe through at a time",
                &[
                    Fail(0),
                    Fail(0),
                    Fail(0),
                    Admit(30, None),
                    Admit(31, Some(29)),
                    Admit(60, None),
                ],
            ),
            (
                "a failed probe reopens",
                &[
                    Fail(0),
                    Fail(0),
                    Fail(0),
                    Admit(30, None),
                    Fail(32),
                    State(33, "open"),
                    Admit(33, Some(29)),
                ],
            ),
            (
                "a successful probe closes",
                &[
                    Fail(0),
                    Fail(0),
                    Fail(0),
                    Admit(30, None),
                    Succeed,
                    Admit(30, None),
                    State(30, "closed"),
                ],
            ),
        ];
        for (name, steps) in scripts {
            let mut breaker = CircuitBreaker::new(BreakerConfig {
                failure_threshold: NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN),
                open_for: 30 * S,
                probe_timeout: Some(30 * S),
            });
            for step in *steps {
                match *step {
                    Fail(at) => {
                        breaker.on_failure(true, at * S);
                    }
                    Succeed => {
                        breaker.on_success(true);
                    }
                    Admit(at, refused_for) => {
                        let admission = breaker.admit(at * S).0;
                        let got = match admission {
                            Admission::Rejected { retry_in } => retry_in.map(|d| d.as_secs()),
                            Admission::Allowed | Admission::Probe => None,
                        };
                        assert_eq!(got, refused_for, "{name}: {step:?}");
                        assert_eq!(
                            matches!(admission, Admission::Rejected { .. }),
                            refused_for.is_some(),
                            "{name}: {step:?}"
                        );
                    }
                    State(at, expected) => {
                        assert_eq!(
                            breaker.state_at(at * S).as_str(),
                            expected,
                            "{name}: {step:?}"
                        );
                    }
                }
            }
        }
    }
}
