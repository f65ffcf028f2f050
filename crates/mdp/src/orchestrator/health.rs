//! The health rules of the topology (pure): a member's health and its reason from what is
//! known of it, and the system's, the worst of its members'.

use core_contracts::{BackpressureLevel, HealthState, Presence};

/// What the rules read of a store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoreFacts<'a> {
    pub(crate) presence: Presence,
    pub(crate) silent_for: f64,
    pub(crate) level: BackpressureLevel,
    pub(crate) level_reason: Option<&'a str>,
    pub(crate) utilization: f64,
    pub(crate) breaker: Option<&'a str>,
    pub(crate) paused: bool,
    /// The store's own verdict, from its last status report.
    pub(crate) reported: Option<HealthState>,
}

/// What the rules read of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PipelineFacts<'a> {
    pub(crate) presence: Presence,
    pub(crate) silent_for: f64,
    pub(crate) level: BackpressureLevel,
    pub(crate) scale: f64,
    pub(crate) paused: bool,
    pub(crate) cause: Option<&'a str>,
}

/// The staleness rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Windows {
    /// Silent for longer than this (seconds): stale.
    pub(crate) stale_after: f64,
    /// Silent for longer than this: gone.
    pub(crate) gone_after: f64,
    /// Gone or left for longer than this: no longer listed.
    pub(crate) forget_after: f64,
}

impl Default for Windows {
    fn default() -> Self {
        Self {
            stale_after: 3.0,
            gone_after: 15.0,
            forget_after: 600.0,
        }
    }
}

impl Windows {
    /// The presence of a member silent for `silent_for` seconds that `left` or not.
    pub(crate) fn presence(&self, silent_for: f64, left: bool) -> Presence {
        if left {
            Presence::Left
        } else if silent_for > self.gone_after {
            Presence::Gone
        } else if silent_for > self.stale_after {
            Presence::Stale
        } else {
            Presence::Live
        }
    }

    /// Whether a member silent for `silent_for` seconds is no longer listed.
    pub(crate) fn forgotten(&self, silent_for: f64) -> bool {
        silent_for > self.forget_after.max(self.gone_after)
    }
}

/// The health and reason of what is not live, if it is not.
fn absent(presence: Presence, silent_for: f64, windows: &Windows) -> Option<(HealthState, String)> {
    match presence {
        Presence::Live => None,
        Presence::Left => Some((HealthState::Healthy, "stopped gracefully".to_owned())),
        Presence::Stale => Some((
            HealthState::Degraded,
            format!(
                "silent for {silent_for:.1} s (stale after {} s)",
                windows.stale_after
            ),
        )),
        Presence::Gone => Some((
            HealthState::Unhealthy,
            format!(
                "silent for {silent_for:.1} s: taken as gone (after {} s)",
                windows.gone_after
            ),
        )),
    }
}

/// A store's health: unhealthy when gone, hard or its breaker is open; degraded when
/// stale, soft, paused or its own report says so; healthy otherwise.
pub(crate) fn store_health(facts: &StoreFacts<'_>, windows: &Windows) -> (HealthState, String) {
    if let Some(verdict) = absent(facts.presence, facts.silent_for, windows) {
        return verdict;
    }
    let fill = format!("queue {:.0}% full", facts.utilization * 100.0);
    let why = facts
        .level_reason
        .map_or(String::new(), |reason| format!(" ({reason})"));
    let breaker_open = facts.breaker.is_some_and(|b| b != "closed");
    match facts.level {
        BackpressureLevel::Hard if breaker_open => (
            HealthState::Unhealthy,
            format!(
                "hard: the sink's breaker is {}{why}",
                facts.breaker.unwrap_or("open")
            ),
        ),
        BackpressureLevel::Hard => (HealthState::Unhealthy, format!("hard: {fill}{why}")),
        _ if breaker_open => (
            HealthState::Unhealthy,
            format!("the sink's breaker is {}", facts.breaker.unwrap_or("open")),
        ),
        BackpressureLevel::Soft if facts.reported == Some(HealthState::Unhealthy) => (
            HealthState::Unhealthy,
            format!("soft: {fill}{why}; the store reports itself unhealthy"),
        ),
        BackpressureLevel::Soft => (HealthState::Degraded, format!("soft: {fill}{why}")),
        BackpressureLevel::Ok if facts.paused => (
            HealthState::Degraded,
            format!("intake paused by an operator; {fill}"),
        ),
        BackpressureLevel::Ok => match facts.reported {
            Some(state @ (HealthState::Degraded | HealthState::Unhealthy)) => (
                state,
                format!("ok: {fill}; the store reports itself {}", state_name(state)),
            ),
            _ => (HealthState::Healthy, format!("ok: {fill}")),
        },
    }
}

/// A pipeline's health: unhealthy when gone; degraded when stale, paused or slowed by the
/// stores; healthy at full rate.
pub(crate) fn pipeline_health(
    facts: &PipelineFacts<'_>,
    windows: &Windows,
) -> (HealthState, String) {
    if let Some(verdict) = absent(facts.presence, facts.silent_for, windows) {
        return verdict;
    }
    let cause = facts.cause.unwrap_or("nothing");
    if facts.paused {
        (
            HealthState::Degraded,
            "paused by an operator: nothing is published until resume".to_owned(),
        )
    } else if facts.scale <= 0.0 {
        (
            HealthState::Degraded,
            format!("held by backpressure ({}, {cause})", facts.level.as_str()),
        )
    } else if facts.scale < 1.0 {
        (
            HealthState::Degraded,
            format!(
                "slowed to {:.0}% ({}, {cause})",
                facts.scale * 100.0,
                facts.level.as_str()
            ),
        )
    } else {
        (HealthState::Healthy, "full rate".to_owned())
    }
}

/// The wire name of `state`.
pub(crate) fn state_name(state: HealthState) -> &'static str {
    match state {
        HealthState::Healthy => "healthy",
        HealthState::Degraded => "degraded",
        HealthState::Unhealthy => "unhealthy",
    }
}

/// How bad a state is, for picking the worst.
pub(crate) fn rank(state: HealthState) -> u8 {
    match state {
        HealthState::Healthy => 0,
        HealthState::Degraded => 1,
        HealthState::Unhealthy => 2,
    }
}

/// The system's health and reason from its members' (`name`, state, reason): the worst
/// member's (the first named of equals), unhealthy without a live store.
pub(crate) fn system_health<'a>(
    members: impl IntoIterator<Item = (&'a str, HealthState, &'a str)>,
    live_stores: usize,
) -> (HealthState, String) {
    let worst =
        members.into_iter().fold(
            None::<(&str, HealthState, &str)>,
            |worst, member| match worst {
                Some(w) if rank(w.1) >= rank(member.1) => Some(w),
                _ => Some(member),
            },
        );
    match worst {
        _ if live_stores == 0 => (
            HealthState::Unhealthy,
            "no live store: nothing is written".to_owned(),
        ),
        Some((name, state, reason)) if state != HealthState::Healthy => {
            (state, format!("{name}: {reason}"))
        }
        _ => (HealthState::Healthy, "every member is healthy".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackpressureLevel::{Hard, Ok, Soft};

    fn store(level: BackpressureLevel) -> StoreFacts<'static> {
        StoreFacts {
            presence: Presence::Live,
            silent_for: 0.5,
            level,
            level_reason: None,
            utilization: 0.42,
            breaker: Some("closed"),
            paused: false,
            reported: Some(HealthState::Healthy),
        }
    }

    fn pipeline(scale: f64) -> PipelineFacts<'static> {
        PipelineFacts {
            presence: Presence::Live,
            silent_for: 0.5,
            level: Ok,
            scale,
            paused: false,
            cause: Some("store"),
        }
    }

    #[test]
    fn presence_goes_live_stale_gone_then_forgotten() {
        let w = Windows::default();
        assert_eq!(w.presence(1.0, false), Presence::Live);
        assert_eq!(w.presence(3.5, false), Presence::Stale);
        assert_eq!(w.presence(16.0, false), Presence::Gone);
        assert_eq!(w.presence(0.0, true), Presence::Left);
        assert!(!w.forgotten(599.0) && w.forgotten(601.0));
    }

    #[test]
    fn a_store_is_as_healthy_as_its_level_breaker_and_presence() {
        let w = Windows::default();
        let table = [
            (store(Ok), HealthState::Healthy, "ok: queue 42% full"),
            (store(Soft), HealthState::Degraded, "soft: queue 42% full"),
            (
                StoreFacts {
                    reported: Some(HealthState::Unhealthy),
                    ..store(Soft)
                },
                HealthState::Unhealthy,
                "soft: queue 42% full; the store reports itself unhealthy",
            ),
            (
                StoreFacts {
                    level_reason: Some("queue_high"),
                    utilization: 0.96,
                    ..store(Hard)
                },
                HealthState::Unhealthy,
                "hard: queue 96% full (queue_high)",
            ),
            (
                StoreFacts {
                    breaker: Some("open"),
                    ..store(Hard)
                },
                HealthState::Unhealthy,
                "hard: the sink's breaker is open",
            ),
            (
                StoreFacts {
                    paused: true,
                    ..store(Ok)
                },
                HealthState::Degraded,
                "intake paused by an operator; queue 42% full",
            ),
            (
                StoreFacts {
                    presence: Presence::Stale,
                    silent_for: 4.25,
                    ..store(Ok)
                },
                HealthState::Degraded,
                "silent for 4.2 s (stale after 3 s)",
            ),
            (
                StoreFacts {
                    presence: Presence::Gone,
                    silent_for: 20.0,
                    ..store(Hard)
                },
                HealthState::Unhealthy,
                "silent for 20.0 s: taken as gone (after 15 s)",
            ),
        ];
        for (facts, state, reason) in table {
            assert_eq!(
                store_health(&facts, &w),
                (state, reason.to_owned()),
                "{facts:?}"
            );
        }
    }

    #[test]
    fn a_pipeline_is_degraded_while_slowed_held_or_paused() {
        let w = Windows::default();
        assert_eq!(pipeline_health(&pipeline(1.0), &w).0, HealthState::Healthy);
        let slowed = PipelineFacts {
            level: Soft,
            ..pipeline(0.5)
        };
        assert_eq!(
            pipeline_health(&slowed, &w),
            (
                HealthState::Degraded,
                "slowed to 50% (soft, store)".to_owned()
            )
        );
        let paused = PipelineFacts {
            paused: true,
            ..pipeline(0.0)
        };
        assert!(
            pipeline_health(&paused, &w)
                .1
                .starts_with("paused by an operator")
        );
    }

    #[test]
    fn the_system_is_its_worst_member_and_needs_a_live_store() {
        let members = [
            ("store s-1", HealthState::Healthy, "ok"),
            ("store s-2", HealthState::Unhealthy, "hard: queue 96% full"),
            ("pipeline p-1", HealthState::Degraded, "held"),
        ];
        assert_eq!(
            system_health(members, 2),
            (
                HealthState::Unhealthy,
                "store s-2: hard: queue 96% full".to_owned()
            )
        );
        assert_eq!(
            system_health([("store s-1", HealthState::Healthy, "ok")], 1).0,
            HealthState::Healthy
        );
        assert_eq!(system_health([], 0).0, HealthState::Unhealthy);
    }
}
