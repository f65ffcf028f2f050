//! Watermarks and the pure signal state machine of the bounded queue (SPEC §4.1).
//!
//! [`transition`] is the whole control law: given the signal state and the queue size after a
//! put or get, it returns the next state and the signal to emit, if any. It has no clock, no
//! lock and no I/O, so the table tests below pin it exactly.

use std::num::NonZeroUsize;

use core_contracts::BackpressureLevel;

/// Reason carried by the HARD signal of the queue.
pub const REASON_HIGH_WATERMARK: &str = "high_watermark";
/// Reason carried by the SOFT signal of the queue.
pub const REASON_SOFT_WATERMARK: &str = "soft_watermark";
/// Reason carried by the OK signal that ends an excursion.
pub const REASON_QUEUE_RECOVERED: &str = "queue_recovered";

/// Why a set of watermarks was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatermarkError {
    /// The watermarks break `low < high <= capacity`.
    #[error(
        "watermarks must satisfy low < high <= capacity, got low={low} high={high} capacity={capacity}"
    )]
    OutOfOrder {
        /// Requested low watermark.
        low: usize,
        /// Requested high watermark.
        high: usize,
        /// Queue capacity.
        capacity: usize,
    },
}

/// Validated watermarks of a queue: `low < high <= capacity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermarks {
    capacity: NonZeroUsize,
    high: usize,
    low: usize,
}

impl Watermarks {
    /// Watermarks for `capacity`, each defaulted when `None`: `high = max(1, floor(0.8 * cap))`,
    /// `low = floor(0.5 * cap)`, a defaulted low being lowered below `high` where needed (with
    /// both defaulted, only for a capacity of 2).
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use store::queue::Watermarks;
    /// let cap = NonZeroUsize::new(10).expect("non-zero");
    /// let marks = Watermarks::new(cap, None, None)?;
    /// assert_eq!((marks.low(), marks.high()), (5, 8));
    /// assert!(Watermarks::new(cap, Some(4), Some(4)).is_err());
    /// # Ok::<(), store::queue::WatermarkError>(())
    /// ```
    pub fn new(
        capacity: NonZeroUsize,
        high: Option<usize>,
        low: Option<usize>,
    ) -> Result<Self, WatermarkError> {
        let cap = capacity.get();
        let high = high.unwrap_or_else(|| (cap * 8 / 10).max(1));
        let low = match low {
            Some(low) => low,
            None => (cap / 2).min(high.saturating_sub(1)),
        };
        if low >= high || high > cap {
            return Err(WatermarkError::OutOfOrder {
                low,
                high,
                capacity: cap,
            });
        }
        Ok(Self {
            capacity,
            high,
            low,
        })
    }

    /// The defaults for `capacity`; always valid.
    pub fn defaults(capacity: NonZeroUsize) -> Self {
        let cap = capacity.get();
        let high = (cap * 8 / 10).max(1);
        Self {
            capacity,
            high,
            low: (cap / 2).min(high - 1),
        }
    }

    /// Queue capacity.
    pub fn capacity(&self) -> usize {
        self.capacity.get()
    }

    /// Size at or above which the queue signals HARD.
    pub fn high(&self) -> usize {
        self.high
    }

    /// Size at or below which a fired signal is cleared with OK.
    pub fn low(&self) -> usize {
        self.low
    }
}

/// Which signal of the current excursion has fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignalState {
    /// No signal has fired since the last OK (or ever).
    #[default]
    Armed,
    /// SOFT has fired; HARD may still fire.
    Soft,
    /// HARD has fired; only OK may follow.
    Hard,
}

impl SignalState {
    /// The backpressure level this state stands for.
    pub fn level(self) -> BackpressureLevel {
        match self {
            Self::Armed => BackpressureLevel::Ok,
            Self::Soft => BackpressureLevel::Soft,
            Self::Hard => BackpressureLevel::Hard,
        }
    }
}

/// A signal to emit: a level and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// New level.
    pub level: BackpressureLevel,
    /// Why the level changed.
    pub reason: &'static str,
}

/// The next state and the signal to emit after the queue reached `size`.
///
/// - HARD when `size >= high`, unless HARD has fired;
/// - SOFT when `low < size < high` and no signal has fired;
/// - OK (`queue_recovered`) when a signal has fired and `size <= low`, which re-arms.
pub fn transition(
    state: SignalState,
    size: usize,
    marks: &Watermarks,
) -> (SignalState, Option<Signal>) {
    if size >= marks.high {
        if state == SignalState::Hard {
            return (state, None);
        }
        return (
            SignalState::Hard,
            Some(Signal {
                level: BackpressureLevel::Hard,
                reason: REASON_HIGH_WATERMARK,
            }),
        );
    }
    if size > marks.low {
        if state == SignalState::Armed {
            return (
                SignalState::Soft,
                Some(Signal {
                    level: BackpressureLevel::Soft,
                    reason: REASON_SOFT_WATERMARK,
                }),
            );
        }
        return (state, None);
    }
    if state == SignalState::Armed {
        return (state, None);
    }
    (
        SignalState::Armed,
        Some(Signal {
            level: BackpressureLevel::Ok,
            reason: REASON_QUEUE_RECOVERED,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackpressureLevel::{Hard, Ok as Fine, Soft};

    fn marks(cap: usize, high: usize, low: usize) -> Watermarks {
        Watermarks::new(
            NonZeroUsize::new(cap).expect("non-zero capacity"),
            Some(high),
            Some(low),
        )
        .expect("valid watermarks")
    }

    /// Runs the machine over a walk of sizes and returns the emitted levels with their size.
    fn walk(marks: &Watermarks, sizes: &[usize]) -> Vec<(usize, BackpressureLevel)> {
        let mut state = SignalState::Armed;
        let mut out = Vec::new();
        for &size in sizes {
            let (next, signal) = transition(state, size, marks);
            state = next;
            if let Some(signal) = signal {
                out.push((size, signal.level));
            }
        }
        out
    }

    #[test]
    fn transition_table_cap10_high8_low4() {
        let m = marks(10, 8, 4);
        let cases: &[(SignalState, usize, SignalState, Option<BackpressureLevel>)] = &[
            (SignalState::Armed, 0, SignalState::Armed, None),
            (SignalState::Armed, 4, SignalState::Armed, None),
            (SignalState::Armed, 5, SignalState::Soft, Some(Soft)),
            (SignalState::Armed, 7, SignalState::Soft, Some(Soft)),
            (SignalState::Armed, 8, SignalState::Hard, Some(Hard)),
            (SignalState::Armed, 10, SignalState::Hard, Some(Hard)),
            (SignalState::Soft, 5, SignalState::Soft, None),
            (SignalState::Soft, 7, SignalState::Soft, None),
            (SignalState::Soft, 8, SignalState::Hard, Some(Hard)),
            (SignalState::Soft, 4, SignalState::Armed, Some(Fine)),
            (SignalState::Soft, 0, SignalState::Armed, Some(Fine)),
            (SignalState::Hard, 9, SignalState::Hard, None),
            (SignalState::Hard, 8, SignalState::Hard, None),
            (SignalState::Hard, 7, SignalState::Hard, None),
            (SignalState::Hard, 5, SignalState::Hard, None),
            (SignalState::Hard, 4, SignalState::Armed, Some(Fine)),
            (SignalState::Hard, 1, SignalState::Armed, Some(Fine)),
        ];
        for &(from, size, to, level) in cases {
            let (next, signal) = transition(from, size, &m);
            assert_eq!(next, to, "state from {from:?} at size {size}");
            assert_eq!(
                signal.map(|s| s.level),
                level,
                "signal from {from:?} at size {size}"
            );
        }
    }

    #[test]
    fn emits_hard_once_at_high_and_ok_once_at_low() {
        let m = marks(10, 8, 4);
        let up_and_down = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
        assert_eq!(
            walk(&m, &up_and_down),
            vec![(5, Soft), (8, Hard), (4, Fine)]
        );
    }

    #[test]
    fn no_soft_after_hard_until_ok() {
        let m = marks(10, 8, 4);
        let sizes = [8, 7, 6, 5, 6, 7, 8, 9, 8, 7, 5];
        assert_eq!(walk(&m, &sizes), vec![(8, Hard)]);
    }

    #[test]
    fn rearms_after_ok() {
        let m = marks(10, 8, 4);
        let sizes = [8, 4, 5, 8, 3, 9];
        assert_eq!(
            walk(&m, &sizes),
            vec![
                (8, Hard),
                (4, Fine),
                (5, Soft),
                (8, Hard),
                (3, Fine),
                (9, Hard)
            ]
        );
    }

    #[test]
    fn soft_fires_once_per_excursion() {
        let m = marks(10, 8, 4);
        let sizes = [5, 6, 7, 6, 5, 6, 7, 4, 5];
        assert_eq!(walk(&m, &sizes), vec![(5, Soft), (4, Fine), (5, Soft)]);
    }

    #[test]
    fn ok_needs_a_fired_signal() {
        let m = marks(10, 8, 4);
        assert_eq!(walk(&m, &[1, 2, 3, 4, 3, 0]), vec![]);
    }

    #[test]
    fn default_watermarks_table() {
        let cases = [
            (1, 1, 0),
            (2, 1, 0),
            (3, 2, 1),
            (4, 3, 2),
            (5, 4, 2),
            (10, 8, 5),
            (10_000, 8_000, 5_000),
        ];
        for (cap, high, low) in cases {
            let cap = NonZeroUsize::new(cap).expect("non-zero capacity");
            let marks = Watermarks::new(cap, None, None).expect("defaults are valid");
            assert_eq!((marks.high(), marks.low()), (high, low), "capacity {cap}");
            assert_eq!(Watermarks::defaults(cap), marks);
        }
    }

    #[test]
    fn rejects_out_of_order_watermarks() {
        let cap = NonZeroUsize::new(10).expect("non-zero capacity");
        for (high, low) in [(4, 4), (4, 5), (11, 4), (0, 0)] {
            assert!(
                Watermarks::new(cap, Some(high), Some(low)).is_err(),
                "high={high} low={low}"
            );
        }
        assert!(Watermarks::new(cap, Some(10), Some(9)).is_ok());
        assert!(
            Watermarks::new(cap, Some(3), None).is_ok(),
            "low follows a small high"
        );
    }
}
