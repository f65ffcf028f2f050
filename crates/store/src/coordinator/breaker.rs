//! The circuit breaker of sink writes as a pure state machine over an explicit `now`
//! (monotonic time from an injected clock): closed → open after `failure_threshold`
//! consecutive failures; open → half-open after `open_for`, admitting a single probe;
//! the probe's success closes it, its failure re-opens it.

use std::num::NonZeroU32;
use std::time::Duration;

/// Breaker settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker (default 5).
    pub failure_threshold: NonZeroU32,
    /// Time the breaker stays open before a probe (default 60 s).
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            open_for: Duration::from_secs(60),
        }
    }
}

/// Where the breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Writes flow; `failures` consecutive failures so far.
    Closed {
        /// Consecutive failures.
        failures: u32,
    },
    /// Writes are refused until `until`.
    Open {
        /// Monotonic time at which a probe is allowed.
        until: Duration,
    },
    /// One probe may run; `probing` while it does.
    HalfOpen {
        /// Whether the probe is in flight.
        probing: bool,
    },
}

impl BreakerState {
    /// The gauge value of `mds_coord_circuit_state`: 0 closed, 1 open, 2 half-open.
    pub fn as_gauge(self) -> i64 {
        match self {
            Self::Closed { .. } => 0,
            Self::Open { .. } => 1,
            Self::HalfOpen { .. } => 2,
        }
    }

    /// The name used in health details.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed { .. } => "closed",
            Self::Open { .. } => "open",
            Self::HalfOpen { .. } => "half_open",
        }
    }
}

/// Whether a write may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Allowed,
    /// Go ahead as the single probe; report the outcome with `probe = true`.
    Probe,
    /// Wait: `retry_in` until a probe is due, or `None` while another probe runs.
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

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Asks to write at `now`.
    pub fn admit(&mut self, now: Duration) -> (Admission, Option<Transition>) {
        match self.state {
            BreakerState::Closed { .. } => (Admission::Allowed, None),
            BreakerState::Open { until } if now >= until => {
                self.state = BreakerState::HalfOpen { probing: true };
                (Admission::Probe, Some(Transition::HalfOpened))
            }
            BreakerState::Open { until } => (
                Admission::Rejected {
                    retry_in: Some(until - now),
                },
                None,
            ),
            BreakerState::HalfOpen { probing: false } => {
                self.state = BreakerState::HalfOpen { probing: true };
                (Admission::Probe, None)
            }
            BreakerState::HalfOpen { probing: true } => {
                (Admission::Rejected { retry_in: None }, None)
            }
        }
    }

    /// Reports a write that reached the sink (it succeeded, or failed for a reason a retry
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

    /// Reports a write that failed for a reason a retry may cure, at `now`.
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
        if probe && self.state == (BreakerState::HalfOpen { probing: true }) {
            self.state = BreakerState::HalfOpen { probing: false };
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
        let mut b = breaker();
        for _ in 0..5 {
            b.on_failure(false, Duration::ZERO);
        }
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
    fn probe_success_closes() {
        let mut b = breaker();
        for _ in 0..5 {
            b.on_failure(false, Duration::ZERO);
        }
        assert_eq!(b.admit(60 * S).0, Admission::Probe);
        assert_eq!(b.on_success(false), None, "a stale success is no probe");
        assert_eq!(b.on_success(true), Some(Transition::Closed));
        assert_eq!(b.admit(60 * S), (Admission::Allowed, None));
    }

    #[test]
    fn probe_failure_reopens_for_another_period() {
        let mut b = breaker();
        for _ in 0..5 {
            b.on_failure(false, Duration::ZERO);
        }
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
        let mut b = breaker();
        for _ in 0..5 {
            b.on_failure(false, Duration::ZERO);
        }
        assert_eq!(b.admit(60 * S).0, Admission::Probe);
        b.release_probe(true);
        assert_eq!(b.admit(60 * S), (Admission::Probe, None));
    }

    #[test]
    fn gauge_values() {
        let cases = [
            (BreakerState::Closed { failures: 3 }, 0, "closed"),
            (BreakerState::Open { until: S }, 1, "open"),
            (BreakerState::HalfOpen { probing: true }, 2, "half_open"),
        ];
        for (state, gauge, name) in cases {
            assert_eq!((state.as_gauge(), state.as_str()), (gauge, name));
        }
    }
}
