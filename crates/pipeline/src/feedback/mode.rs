//! Which mode turns feedback into a budget scale (`MDP_FB_MODE`), and how adaptive mode
//! composes the law of [`super::adaptive`] with the level in force: what the law reads, which
//! scale holds for each cause, and when a new scale is worth applying.

use core_contracts::BackpressureLevel;

use super::{Cause, Decision, FeedbackError, ScalePolicy};

/// How the pipeline turns feedback into a budget scale (`MDP_FB_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeedbackMode {
    /// One scale per level (`MDP_FB_SCALE_OK`, `_SOFT`, `_HARD`).
    #[default]
    Levels,
    /// The smooth law of [`super::AdaptiveLaw`]; a hard level still pauses.
    Adaptive,
}

impl FeedbackMode {
    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Levels => "levels",
            Self::Adaptive => "adaptive",
        }
    }
}

impl std::str::FromStr for FeedbackMode {
    type Err = FeedbackError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "levels" => Ok(Self::Levels),
            "adaptive" => Ok(Self::Adaptive),
            _ => Err(FeedbackError::InvalidPolicy(format!(
                "expected levels or adaptive, got {s:?}"
            ))),
        }
    }
}

/// Relative change of the scale below which adaptive mode applies no new adjustment.
pub const RESCALE_STEP: f64 = 0.02;

/// The pressure the law reads: the worst utilization among the live store coordinators,
/// or the backlog's share of `max_backlog`, whichever is higher.
///
/// ```
/// use pipeline::feedback::adaptive_pressure;
/// assert_eq!(adaptive_pressure([0.3, 0.6], 10_000, 50_000), 0.6);
/// assert_eq!(adaptive_pressure([0.3], 40_000, 50_000), 0.8);
/// assert_eq!(adaptive_pressure([], 0, 50_000), 0.0);
/// ```
pub fn adaptive_pressure(
    utilizations: impl IntoIterator<Item = f64>,
    backlog: u64,
    max_backlog: u64,
) -> f64 {
    let backlog = backlog as f64 / max_backlog.max(1) as f64;
    utilizations.into_iter().fold(backlog, f64::max)
}

/// The scale adaptive mode puts in force for `decision`: the levels' scale while the level
/// is hard or no store is known (there is nothing to steer on), 0 while an operator holds
/// the pipeline, otherwise the law's, capped at the soft scale while some store is silent
/// (as levels mode would have it).
pub fn adaptive_scale(
    decision: &Decision,
    some_silent: bool,
    policy: &ScalePolicy,
    law: f64,
) -> f64 {
    match decision.cause {
        Cause::Operator => 0.0,
        _ if decision.level == BackpressureLevel::Hard => policy.scale_for(decision.level),
        Cause::NoStore | Cause::Nothing => policy.scale_for(decision.level),
        Cause::Store(_) | Cause::Backlog if some_silent => {
            law.min(policy.scale_for(BackpressureLevel::Soft))
        }
        Cause::Store(_) | Cause::Backlog => law,
    }
}

/// Whether `next` differs enough from the scale `applied` (if any) to apply it: by
/// [`RESCALE_STEP`] of it, or by reaching full scale or a pause.
pub fn rescale_needed(applied: Option<f64>, next: f64) -> bool {
    let Some(applied) = applied else {
        return true;
    };
    if next == applied {
        return false;
    }
    next == 1.0 || next == 0.0 || applied == 0.0 || (next - applied).abs() >= RESCALE_STEP * applied
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_in_force_depends_on_the_cause() {
        use BackpressureLevel::{Hard, Ok, Soft};
        let policy = ScalePolicy::default();
        let d = |level, cause| Decision { level, cause };
        let store = || Cause::Store("a".into());
        let cases = [
            (d(Ok, store()), false, 0.3, 0.3),
            (d(Soft, store()), false, 0.3, 0.3),
            (d(Soft, store()), false, 0.9, 0.9),
            (d(Soft, Cause::Backlog), false, 0.2, 0.2),
            (d(Hard, store()), false, 0.3, 0.0),
            (d(Hard, Cause::Backlog), false, 0.3, 0.0),
            (d(Hard, Cause::NoStore), false, 0.3, 0.0),
            (d(Soft, Cause::NoStore), false, 0.3, 0.5),
            (d(Ok, Cause::Nothing), false, 0.3, 1.0),
            (d(Soft, store()), true, 0.9, 0.5),
            (d(Soft, store()), true, 0.3, 0.3),
        ];
        for (decision, silent, law, scale) in cases {
            assert_eq!(
                adaptive_scale(&decision, silent, &policy, law),
                scale,
                "{decision:?} silent {silent} law {law}"
            );
        }
    }

    #[test]
    fn a_new_scale_is_applied_when_it_moved_enough() {
        let cases = [
            (None, 0.5, true),
            (Some(0.5), 0.5, false),
            (Some(0.5), 0.505, false),
            (Some(0.5), 0.51, true),
            (Some(0.5), 0.49, true),
            (Some(0.99), 1.0, true),
            (Some(0.01), 0.0, true),
            (Some(0.0), 0.01, true),
            (Some(0.1), 0.1015, false),
        ];
        for (applied, next, needed) in cases {
            assert_eq!(
                rescale_needed(applied, next),
                needed,
                "{applied:?} -> {next}"
            );
        }
    }

    #[test]
    fn the_mode_parses_its_two_spellings() {
        assert_eq!(
            "levels".parse::<FeedbackMode>().ok(),
            Some(FeedbackMode::Levels)
        );
        assert_eq!(
            "Adaptive".parse::<FeedbackMode>().ok(),
            Some(FeedbackMode::Adaptive)
        );
        assert!("smooth".parse::<FeedbackMode>().is_err());
        assert_eq!(FeedbackMode::default().as_str(), "levels");
    }
}
