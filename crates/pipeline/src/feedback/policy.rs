//! The scale policy: which budget scale each backpressure level puts in force.

use core_contracts::BackpressureLevel;

use super::FeedbackError;

/// Budget scale per level (`MDP_FB_SCALE_OK`, `_SOFT`, `_HARD`); defaults 1.0, 0.5, 0.0.
///
/// Every scale lies in `[0, 1]` and a worse level never allows a higher rate.
///
/// ```
/// use core_contracts::BackpressureLevel;
/// use pipeline::feedback::ScalePolicy;
/// let policy = ScalePolicy::default();
/// assert_eq!(policy.scale_for(BackpressureLevel::Soft), 0.5);
/// assert!(ScalePolicy::new(1.0, 0.2, 0.5).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalePolicy {
    ok: f64,
    soft: f64,
    hard: f64,
}

impl Default for ScalePolicy {
    fn default() -> Self {
        Self {
            ok: 1.0,
            soft: 0.5,
            hard: 0.0,
        }
    }
}

impl ScalePolicy {
    /// A validated policy.
    pub fn new(ok: f64, soft: f64, hard: f64) -> Result<Self, FeedbackError> {
        for (name, value) in [("ok", ok), ("soft", soft), ("hard", hard)] {
            if !(0.0..=1.0).contains(&value) {
                return Err(FeedbackError::InvalidPolicy(format!(
                    "{name} scale must be within [0, 1], got {value}"
                )));
            }
        }
        if !(ok >= soft && soft >= hard) {
            return Err(FeedbackError::InvalidPolicy(format!(
                "scales must not rise with the level: ok {ok} >= soft {soft} >= hard {hard}"
            )));
        }
        Ok(Self { ok, soft, hard })
    }

    /// The budget scale for `level`.
    pub fn scale_for(&self, level: BackpressureLevel) -> f64 {
        match level {
            BackpressureLevel::Ok => self.ok,
            BackpressureLevel::Soft => self.soft,
            BackpressureLevel::Hard => self.hard,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackpressureLevel::{Hard, Ok, Soft};

    #[test]
    fn levels_map_to_the_configured_scales() {
        let default = ScalePolicy::default();
        let gentle = ScalePolicy::new(1.0, 0.8, 0.2).expect("valid policy");
        let halved = ScalePolicy::new(0.5, 0.25, 0.0).expect("valid policy");
        let cases = [
            (default, Ok, 1.0),
            (default, Soft, 0.5),
            (default, Hard, 0.0),
            (gentle, Ok, 1.0),
            (gentle, Soft, 0.8),
            (gentle, Hard, 0.2),
            (halved, Ok, 0.5),
            (halved, Soft, 0.25),
            (halved, Hard, 0.0),
        ];
        for (policy, level, scale) in cases {
            assert_eq!(policy.scale_for(level), scale, "{policy:?} {level}");
        }
    }

    #[test]
    fn rejects_scales_outside_the_unit_interval_or_rising_with_the_level() {
        let cases = [
            (1.1, 0.5, 0.0),
            (1.0, -0.1, 0.0),
            (1.0, 0.5, f64::NAN),
            (0.5, 1.0, 0.0),
            (1.0, 0.2, 0.3),
        ];
        for (ok, soft, hard) in cases {
            assert!(
                ScalePolicy::new(ok, soft, hard).is_err(),
                "{ok} {soft} {hard}"
            );
        }
    }
}
