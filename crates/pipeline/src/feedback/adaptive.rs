//! The adaptive control law (`MDP_FB_MODE=adaptive`): instead of jumping between the three
//! scales of the levels, the budget scale moves smoothly to hold the stores' queues near a
//! target utilization, between the store's watermarks.
//!
//! The law works on the logarithm of the scale, so that it is the same whatever the ratio
//! of the pipeline's rate to the sink's. At each pressure reading `p` (the worst store
//! utilization, or the backlog's share of `MDP_MAX_BACKLOG`), taken `dt` after the previous
//! reading `p0`:
//!
//! ```text
//! predicted = p + (p - p0) / dt * HORIZON        where the pressure will be if nothing changes
//! ln scale -= GAIN * (predicted - TARGET) * dt   integral action on the predicted error
//! ln scale <= ln scale0 + MAX_RISE * dt          at most doubling per second
//! scale     = clamp(scale, floor, 1)
//! ```
//!
//! The term in `p - p0` damps the loop (it is the proportional part of a PI law on the
//! pressure) and does not depend on how often readings arrive. The scale falls as fast as
//! the pressure asks and rises at most twofold per second, so a queue that empties for a
//! moment does not bring back the rate that filled it. When the level turns hard the
//! pipeline pauses as in levels mode and the law halves its scale, once per episode, so
//! that it resumes below the rate that overflowed; while paused it only follows the
//! readings (a paused queue falls whatever the scale).
//!
//! The law is tuned for the store's utilization reports (every 250 ms) and a queue that
//! takes half a second or more to drain (capacity over sink rate): a faster sink empties
//! the queue between two reports, and there levels mode is as good.

use std::time::Duration;

use super::FeedbackError;

/// The utilization the law holds the queues at: midway between the store's default
/// watermarks (soft above 50 %, hard at 80 %).
pub const TARGET: f64 = 0.65;
/// Integral gain, per second and per unit of predicted error.
pub const GAIN: f64 = 5.0;
/// How far ahead the pressure is extrapolated from its last change.
pub const HORIZON: Duration = Duration::from_millis(1400);
/// The longest gap between two readings that is integrated: after a longer silence the
/// law steps as if this much time had passed.
pub const MAX_STEP: Duration = Duration::from_secs(1);
/// The fastest rise of the scale: `ln 2` per second, at most doubling each second.
pub const MAX_RISE: f64 = std::f64::consts::LN_2;
/// Default lowest scale while the level is below hard (`MDP_FB_ADAPTIVE_FLOOR`).
pub const DEFAULT_FLOOR: f64 = 0.01;

/// The state of the adaptive law: the scale, the last reading and whether a hard episode
/// is under way. Time is monotonic and given by the caller.
///
/// ```
/// use std::time::Duration;
/// use pipeline::feedback::AdaptiveLaw;
/// let mut law = AdaptiveLaw::new(0.01)?;
/// assert_eq!(law.observe(Duration::ZERO, 0.65), 1.0);
/// // the queue climbs fast: the scale comes down at once
/// assert!(law.observe(Duration::from_millis(250), 0.75) < 0.5);
/// # Ok::<(), pipeline::feedback::FeedbackError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveLaw {
    floor: f64,
    scale: f64,
    last: Option<(Duration, f64)>,
    in_hard: bool,
}

impl Default for AdaptiveLaw {
    /// A law starting at full scale with the [`DEFAULT_FLOOR`].
    fn default() -> Self {
        Self {
            floor: DEFAULT_FLOOR,
            scale: 1.0,
            last: None,
            in_hard: false,
        }
    }
}

impl AdaptiveLaw {
    /// A law starting at full scale that never goes below `floor` (in `(0, 1]`).
    pub fn new(floor: f64) -> Result<Self, FeedbackError> {
        if !(floor > 0.0 && floor <= 1.0) {
            return Err(FeedbackError::InvalidPolicy(format!(
                "the adaptive floor must be within (0, 1], got {floor}"
            )));
        }
        Ok(Self {
            floor,
            ..Self::default()
        })
    }

    /// The scale in force while the level is below hard.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The lowest scale below hard.
    pub fn floor(&self) -> f64 {
        self.floor
    }

    /// Takes a fresh pressure reading at `now` and returns the new scale. The first
    /// reading only sets the reference; a reading at the same instant as the last one
    /// replaces it; a reading older than the last one is ignored.
    pub fn observe(&mut self, now: Duration, pressure: f64) -> f64 {
        let pressure = if pressure.is_finite() {
            pressure.max(0.0)
        } else {
            0.0
        };
        let Some((at, before)) = self.last else {
            self.last = Some((now, pressure));
            return self.scale;
        };
        if now < at {
            return self.scale;
        }
        self.last = Some((now, pressure));
        let dt = now - at;
        if dt.is_zero() || self.in_hard {
            return self.scale;
        }
        let step = dt.min(MAX_STEP).as_secs_f64();
        let slope = (pressure - before) / dt.as_secs_f64();
        let predicted = pressure + slope * HORIZON.as_secs_f64();
        let fall = GAIN * (predicted - TARGET) * step;
        let log = self.scale.ln() - fall.max(-MAX_RISE * step);
        self.scale = log.exp().clamp(self.floor, 1.0);
        self.scale
    }

    /// The level is hard (`true`) or below hard again (`false`). Entering a hard episode
    /// halves the scale the pipeline resumes at, down to the floor; until it ends, readings
    /// only move the reference.
    pub fn hard(&mut self, hard: bool) {
        if hard && !self.in_hard {
            self.scale = (self.scale / 2.0).max(self.floor);
        }
        self.in_hard = hard;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn law() -> AdaptiveLaw {
        AdaptiveLaw::new(0.01).expect("valid floor")
    }

    /// Steps a fresh law through `readings` (milliseconds, pressure) and returns the scales.
    fn run(readings: &[(u64, f64)]) -> Vec<f64> {
        let mut law = law();
        readings
            .iter()
            .map(|&(at, p)| law.observe(ms(at), p))
            .collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_scale_follows_the_predicted_error() {
        let e = |x: f64| x.exp();
        // (readings, expected scale after the last one)
        let cases: [(&[(u64, f64)], f64); 7] = [
            // first reading: reference only
            (&[(0, 0.9)], 1.0),
            // at the target and steady: unchanged
            (&[(0, 0.65), (250, 0.65)], 1.0),
            // steady above the target: -5 * 0.1 * 0.25
            (&[(0, 0.75), (250, 0.75)], e(-0.125)),
            // rising by 0.1 in 0.25 s: predicted 0.75 + 0.4 * 1.4 = 1.31
            (&[(0, 0.65), (250, 0.75)], e(-5.0 * (1.31 - 0.65) * 0.25)),
            // below the target at full scale: capped at 1
            (&[(0, 0.2), (250, 0.2)], 1.0),
            // a long silence integrates one second at most: -5 * 0.35 * 1
            (&[(0, 1.0), (5_000, 1.0)], e(-1.75)),
            // far above for long: down to the floor, never below
            (&[(0, 1.0), (1_000, 1.0), (2_000, 1.0), (3_000, 1.0)], 0.01),
        ];
        for (readings, expected) in cases {
            let scales = run(readings);
            let last = *scales.last().expect("a reading");
            assert!(close(last, expected), "{readings:?}: {last} != {expected}");
        }
    }

    #[test]
    fn the_damping_term_does_not_depend_on_how_often_readings_come() {
        // the same rise from 0.65 to 0.75 over 0.5 s, read twice or five times
        let coarse = run(&[(0, 0.65), (500, 0.75), (1_000, 0.75)]);
        let fine = run(&[
            (0, 0.65),
            (100, 0.67),
            (200, 0.69),
            (300, 0.71),
            (400, 0.73),
            (500, 0.75),
            (1_000, 0.75),
        ]);
        let (coarse, fine) = (coarse[2], fine[6]);
        // both fall by GAIN * HORIZON * 0.1 = 0.7 for the rise; the integral parts differ
        // only as two rectangle rules over the same path do (0.1 here)
        assert!((coarse.ln() - fine.ln()).abs() < 0.15, "{coarse} vs {fine}");
        assert!(coarse.ln() < -1.0 && fine.ln() < -1.0, "{coarse} {fine}");
    }

    #[test]
    fn a_falling_queue_raises_the_scale_before_it_reaches_the_target_at_most_twofold_a_second() {
        let mut law = law();
        law.observe(ms(0), 1.0);
        law.observe(ms(1_000), 1.0);
        let low = law.scale();
        // still above the target, but falling fast
        let raised = law.observe(ms(1_250), 0.8);
        assert!(close(raised, low * 2f64.powf(0.25)), "{raised} vs {low}");
        // a gentle fall raises it less than the limit
        let mut gentle = law.clone();
        let slow = gentle.observe(ms(1_500), 0.76);
        assert!(
            slow > raised && slow < raised * 2f64.powf(0.25),
            "{slow} vs {raised}"
        );
    }

    #[test]
    fn while_hard_the_readings_only_move_the_reference() {
        let mut law = law();
        law.observe(ms(0), 0.7);
        law.observe(ms(250), 0.8);
        let before = law.scale();
        law.hard(true);
        assert!(close(law.scale(), before / 2.0));
        // the paused queue drains: no step while hard
        assert!(close(law.observe(ms(1_000), 0.7), before / 2.0));
        assert!(close(law.observe(ms(1_750), 0.6), before / 2.0));
        law.hard(false);
        // steady at 0.6 from the last reading on: a small rise, from half the scale
        let after = law.observe(ms(2_000), 0.6);
        let expected = before / 2.0 * (5.0 * 0.05 * 0.25f64).exp();
        assert!(close(after, expected), "{after} vs {expected}");
    }

    #[test]
    fn readings_at_the_same_instant_or_older_do_not_step() {
        let mut law = law();
        law.observe(ms(100), 0.9);
        assert_eq!(law.observe(ms(100), 0.95), 1.0);
        assert_eq!(law.observe(ms(50), 0.99), 1.0);
        // the reference is the reading that replaced the first one
        let expected = (-GAIN * (0.95 - TARGET) * 0.1).exp();
        assert!(close(law.observe(ms(200), 0.95), expected));
    }

    #[test]
    fn a_hard_episode_halves_the_scale_once() {
        let mut law = law();
        law.hard(true);
        assert_eq!(law.scale(), 0.5);
        law.hard(true);
        assert_eq!(law.scale(), 0.5);
        law.hard(false);
        law.hard(true);
        assert_eq!(law.scale(), 0.25);
        let mut low = AdaptiveLaw::new(0.3).expect("valid floor");
        low.hard(true);
        low.hard(false);
        low.hard(true);
        assert_eq!(low.scale(), 0.3);
    }

    #[test]
    fn nonsense_readings_count_as_no_pressure() {
        let mut law = law();
        law.observe(ms(0), f64::NAN);
        assert_eq!(law.observe(ms(250), -3.0), 1.0);
        assert_eq!(law.observe(ms(500), f64::INFINITY), 1.0);
    }

    #[test]
    fn the_floor_must_be_a_scale_above_zero() {
        for floor in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(AdaptiveLaw::new(floor).is_err(), "{floor}");
        }
        assert_eq!(AdaptiveLaw::new(1.0).expect("valid").floor(), 1.0);
        assert_eq!(AdaptiveLaw::default().floor(), DEFAULT_FLOOR);
    }
}
