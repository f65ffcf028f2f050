//! The pressure in force, as pure functions: the stores' combined level, what holds when no
//! store is known (fail closed), and the backlog of the bars stream.

use core_contracts::BackpressureLevel;

use super::{Aggregate, FeedbackError};

/// What a pipeline does while it knows no live store (`MDP_FB_WHEN_NO_STORE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenNoStore {
    /// Hold (level hard, scale 0) until a store is heard: nothing piles up unread.
    #[default]
    Pause,
    /// Go on at the soft scale.
    Soft,
    /// Go on at full rate (the behaviour before fail-closed).
    Ok,
}

impl WhenNoStore {
    /// The level in force while no store is known.
    pub fn level(self) -> BackpressureLevel {
        match self {
            Self::Pause => BackpressureLevel::Hard,
            Self::Soft => BackpressureLevel::Soft,
            Self::Ok => BackpressureLevel::Ok,
        }
    }

    /// The setting's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Soft => "soft",
            Self::Ok => "ok",
        }
    }
}

impl std::str::FromStr for WhenNoStore {
    type Err = FeedbackError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "pause" => Ok(Self::Pause),
            "soft" => Ok(Self::Soft),
            "ok" => Ok(Self::Ok),
            _ => Err(FeedbackError::InvalidPolicy(format!(
                "expected pause, soft or ok, got {s:?}"
            ))),
        }
    }
}

/// The backlog's own level: soft above half of `max`, hard above `max`.
///
/// ```
/// use core_contracts::BackpressureLevel::{Hard, Ok, Soft};
/// use pipeline::feedback::backlog_level;
/// assert_eq!(backlog_level(25_000, 50_000), Ok);
/// assert_eq!(backlog_level(25_001, 50_000), Soft);
/// assert_eq!(backlog_level(50_001, 50_000), Hard);
/// ```
pub fn backlog_level(backlog: u64, max: u64) -> BackpressureLevel {
    if backlog > max {
        BackpressureLevel::Hard
    } else if backlog > max / 2 {
        BackpressureLevel::Soft
    } else {
        BackpressureLevel::Ok
    }
}

/// What puts the level in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// A store coordinator, counted at this level.
    Store(String),
    /// No live store is known.
    NoStore,
    /// The backlog of the bars stream.
    Backlog,
    /// Nothing: no store known and no pressure.
    Nothing,
    /// An operator paused the pipeline (`mdp ctl pause`): scale 0 until resumed, whatever
    /// the stores say.
    Operator,
}

impl Cause {
    /// The telemetry label.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Store(_) => "store",
            Self::NoStore => "no_store",
            Self::Backlog => "backlog",
            Self::Nothing => "nothing",
            Self::Operator => "operator",
        }
    }
}

/// The level in force and its cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The worst of the inputs.
    pub level: BackpressureLevel,
    /// The input that set it (the stores first, then the backlog when it is worse).
    pub cause: Cause,
}

/// The worst of the stores' combined level (or the no-store level when none counts) and
/// the backlog's level.
pub fn decide(agg: &Aggregate, when_no_store: WhenNoStore, backlog: BackpressureLevel) -> Decision {
    let base = match &agg.decided_by {
        Some(id) => Decision {
            level: agg.level,
            cause: Cause::Store(id.clone()),
        },
        None if when_no_store.level() > BackpressureLevel::Ok => Decision {
            level: when_no_store.level(),
            cause: Cause::NoStore,
        },
        None => Decision {
            level: BackpressureLevel::Ok,
            cause: Cause::Nothing,
        },
    };
    if backlog > base.level {
        Decision {
            level: backlog,
            cause: Cause::Backlog,
        }
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackpressureLevel::{Hard, Ok, Soft};

    fn agg(store: Option<(&str, BackpressureLevel)>) -> Aggregate {
        Aggregate {
            level: store.map_or(Ok, |(_, l)| l),
            decided_by: store.map(|(id, _)| id.to_owned()),
            fresh: usize::from(store.is_some()),
            silent: 0,
            forgotten: Vec::new(),
        }
    }

    #[test]
    fn the_backlog_is_soft_above_half_and_hard_above_the_maximum() {
        let cases = [
            (0, 100, Ok),
            (50, 100, Ok),
            (51, 100, Soft),
            (100, 100, Soft),
            (101, 100, Hard),
            (u64::MAX, 100, Hard),
            (0, 1, Ok),
            (1, 1, Soft),
            (2, 1, Hard),
        ];
        for (backlog, max, level) in cases {
            assert_eq!(backlog_level(backlog, max), level, "{backlog} of {max}");
        }
    }

    #[test]
    fn the_worst_input_wins() {
        use Cause::{Backlog, NoStore, Nothing, Store};
        use WhenNoStore as W;
        let a = |level| Some(("a", level));
        let cases = [
            // no store known: the policy holds
            (None, W::Pause, Ok, Hard, NoStore),
            (None, W::Soft, Ok, Soft, NoStore),
            (None, W::Ok, Ok, Ok, Nothing),
            (None, W::Ok, Soft, Soft, Backlog),
            (None, W::Soft, Hard, Hard, Backlog),
            (None, W::Pause, Hard, Hard, NoStore),
            // a store known: its level, unless the backlog is worse
            (a(Ok), W::Pause, Ok, Ok, Store("a".into())),
            (a(Soft), W::Pause, Ok, Soft, Store("a".into())),
            (a(Ok), W::Pause, Soft, Soft, Backlog),
            (a(Ok), W::Ok, Hard, Hard, Backlog),
            (a(Hard), W::Ok, Soft, Hard, Store("a".into())),
            (a(Soft), W::Ok, Soft, Soft, Store("a".into())),
        ];
        for (store, policy, backlog, level, cause) in cases {
            let decision = decide(&agg(store), policy, backlog);
            assert_eq!(
                decision,
                Decision { level, cause },
                "{store:?} {policy:?} {backlog}"
            );
        }
    }

    #[test]
    fn the_no_store_policy_parses_its_three_spellings() {
        for (text, policy) in [
            ("pause", WhenNoStore::Pause),
            ("SOFT", WhenNoStore::Soft),
            ("ok", WhenNoStore::Ok),
        ] {
            assert_eq!(text.parse::<WhenNoStore>().expect("parses"), policy);
            assert_eq!(policy.as_str(), text.to_ascii_lowercase());
        }
        assert!("hold".parse::<WhenNoStore>().is_err());
    }
}
