//! The control law of the feedback loop, as pure functions: which events to admit, how long
//! a store coordinator counts, and the level in force across all of them.

use std::time::Duration;

use core_contracts::{BackpressureLevel, FeedbackEvent};

use super::Windows;

/// What the handler remembers of one store coordinator.
#[derive(Debug, Clone, PartialEq)]
pub struct CoordinatorView {
    /// Level of the last event admitted.
    pub level: BackpressureLevel,
    /// `ts` of the last event admitted, Unix epoch seconds.
    pub last_ts: f64,
    /// `seq` of the last event admitted (v2).
    pub last_seq: Option<u64>,
    /// Monotonic time the last event was admitted.
    pub heard_at: Duration,
    /// Queue depth of the last event admitted.
    pub queue_size: u64,
    /// Utilization of the last event admitted (its `utilization`, or depth over capacity).
    pub utilization: f64,
    /// `source` of the last event admitted.
    pub source: String,
}

impl CoordinatorView {
    /// The view after admitting `event` at monotonic time `now`.
    pub fn from_event(event: &FeedbackEvent, now: Duration) -> Self {
        Self {
            level: event.level,
            last_ts: event.ts,
            last_seq: event.seq,
            heard_at: now,
            queue_size: event.queue_size,
            utilization: event.utilization(),
            source: event.source.clone(),
        }
    }
}

/// The verdict on an incoming event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The event is news: it replaces what is known of its coordinator.
    Accept,
    /// The event is older than the last one admitted from its coordinator.
    OutOfOrder,
    /// The event was already older than the staleness window when it arrived.
    Stale,
}

impl Admission {
    /// The telemetry label of a refusal.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::OutOfOrder => "out_of_order",
            Self::Stale => "stale",
        }
    }
}

/// Decides whether `event` is news, given the last event admitted from its coordinator.
///
/// Order is by `seq` when both events carry one (v2) and by `ts` otherwise; an equal `seq`
/// is a duplicate, an equal `ts` without `seq` is not. A `seq` that goes back while `ts`
/// moves on by at least the staleness window is a restarted store and is admitted. An event
/// whose `ts` lies further than the staleness window behind `now_unix` is stale on arrival
/// (a replay of old history must not steer the rate).
pub fn admit(
    last: Option<&CoordinatorView>,
    event: &FeedbackEvent,
    now_unix: f64,
    windows: &Windows,
) -> Admission {
    if now_unix - event.ts > windows.stale_after().as_secs_f64() {
        return Admission::Stale;
    }
    let Some(last) = last else {
        return Admission::Accept;
    };
    let newer = match (event.seq, last.last_seq) {
        (Some(seq), Some(last_seq)) => {
            seq > last_seq || event.ts - last.last_ts >= windows.stale_after().as_secs_f64()
        }
        _ => event.ts >= last.last_ts,
    };
    if newer {
        Admission::Accept
    } else {
        Admission::OutOfOrder
    }
}

/// How a coordinator counts at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// Heard within the staleness window: its own level counts.
    Fresh,
    /// Silent for three heartbeats or more: counts as `soft`.
    Silent,
    /// Silent for `forget_after` or more: no longer counts.
    Forgotten,
}

/// The liveness of a coordinator last heard at `heard_at`, at monotonic time `now`.
pub fn liveness(heard_at: Duration, now: Duration, windows: &Windows) -> Liveness {
    let silence = now.saturating_sub(heard_at);
    if silence >= windows.forget_after() {
        Liveness::Forgotten
    } else if silence >= windows.stale_after() {
        Liveness::Silent
    } else {
        Liveness::Fresh
    }
}

/// The level a coordinator contributes now, or `None` once it is forgotten.
pub fn counted_level(
    view: &CoordinatorView,
    now: Duration,
    windows: &Windows,
) -> Option<BackpressureLevel> {
    match liveness(view.heard_at, now, windows) {
        Liveness::Fresh => Some(view.level),
        Liveness::Silent => Some(BackpressureLevel::Soft),
        Liveness::Forgotten => None,
    }
}

/// The level in force across every coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// The worst level counted; `ok` when no coordinator counts.
    pub level: BackpressureLevel,
    /// The first coordinator (in iteration order) counted at `level`, if any.
    pub decided_by: Option<String>,
    /// Coordinators counted at their own level.
    pub fresh: usize,
    /// Coordinators counted as `soft` for their silence.
    pub silent: usize,
    /// Coordinators to forget now.
    pub forgotten: Vec<String>,
}

/// Combines the coordinators' views at monotonic time `now`: the worst counted level wins,
/// so an `ok` from one coordinator never cancels a `hard` from another.
///
/// ```
/// use core_contracts::BackpressureLevel;
/// use pipeline::feedback::{aggregate, CoordinatorView, Windows};
/// use std::time::Duration;
/// let windows = Windows::from_heartbeat(Duration::from_secs(5), Duration::from_secs(300))?;
/// let view = |level| CoordinatorView {
///     level, last_ts: 0.0, last_seq: None, heard_at: Duration::ZERO,
///     queue_size: 0, utilization: 0.0, source: "store".into(),
/// };
/// let (a, b) = (view(BackpressureLevel::Hard), view(BackpressureLevel::Ok));
/// let agg = aggregate([("a", &a), ("b", &b)], Duration::from_secs(1), &windows);
/// assert_eq!(agg.level, BackpressureLevel::Hard);
/// # Ok::<(), pipeline::feedback::FeedbackError>(())
/// ```
pub fn aggregate<'a>(
    views: impl IntoIterator<Item = (&'a str, &'a CoordinatorView)>,
    now: Duration,
    windows: &Windows,
) -> Aggregate {
    let mut agg = Aggregate {
        level: BackpressureLevel::Ok,
        decided_by: None,
        fresh: 0,
        silent: 0,
        forgotten: Vec::new(),
    };
    for (id, view) in views {
        let counted = match liveness(view.heard_at, now, windows) {
            Liveness::Fresh => {
                agg.fresh += 1;
                view.level
            }
            Liveness::Silent => {
                agg.silent += 1;
                BackpressureLevel::Soft
            }
            Liveness::Forgotten => {
                agg.forgotten.push(id.to_owned());
                continue;
            }
        };
        if agg.decided_by.is_none() || counted > agg.level {
            agg.level = counted;
            agg.decided_by = Some(id.to_owned());
        }
    }
    agg
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackpressureLevel::{Hard, Ok, Soft};

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    fn windows() -> Windows {
        Windows::from_heartbeat(s(5), s(300)).expect("valid windows")
    }

    fn view(level: BackpressureLevel, heard_at: u64) -> CoordinatorView {
        CoordinatorView {
            level,
            last_ts: 1000.0,
            last_seq: Some(10),
            heard_at: s(heard_at),
            queue_size: 0,
            utilization: 0.0,
            source: "store".to_owned(),
        }
    }

    /// Coordinators as (id, level, heard at s), now s, level, decided by, forgotten.
    type Case = (
        &'static [(&'static str, BackpressureLevel, u64)],
        u64,
        BackpressureLevel,
        Option<&'static str>,
        &'static [&'static str],
    );

    #[test]
    fn the_worst_counted_level_wins() {
        let cases: &[Case] = &[
            (&[], 0, Ok, None, &[]),
            (&[("a", Ok, 0)], 1, Ok, Some("a"), &[]),
            (&[("a", Hard, 0), ("b", Ok, 0)], 1, Hard, Some("a"), &[]),
            (&[("a", Ok, 0), ("b", Hard, 0)], 1, Hard, Some("b"), &[]),
            (
                &[("a", Soft, 0), ("b", Hard, 0), ("c", Ok, 0)],
                1,
                Hard,
                Some("b"),
                &[],
            ),
            // a hard coordinator silent for three heartbeats counts as soft
            (&[("a", Hard, 0), ("b", Ok, 14)], 15, Soft, Some("a"), &[]),
            (&[("a", Hard, 0), ("b", Ok, 14)], 14, Hard, Some("a"), &[]),
            // a silent ok coordinator also counts as soft: silence is not health
            (&[("a", Ok, 0)], 20, Soft, Some("a"), &[]),
            // forgotten after forget-after, and no longer counted
            (
                &[("a", Hard, 0), ("b", Ok, 299)],
                300,
                Ok,
                Some("b"),
                &["a"],
            ),
            (&[("a", Hard, 0)], 301, Ok, None, &["a"]),
        ];
        for (coordinators, now, level, decided_by, forgotten) in cases {
            let views: Vec<(&str, CoordinatorView)> = coordinators
                .iter()
                .map(|(id, l, at)| (*id, view(*l, *at)))
                .collect();
            let agg = aggregate(views.iter().map(|(id, v)| (*id, v)), s(*now), &windows());
            assert_eq!(agg.level, *level, "{coordinators:?} at {now}");
            assert_eq!(
                agg.decided_by.as_deref(),
                *decided_by,
                "{coordinators:?} at {now}"
            );
            assert_eq!(
                agg.forgotten,
                forgotten.to_vec(),
                "{coordinators:?} at {now}"
            );
        }
    }

    #[test]
    fn liveness_follows_the_windows() {
        let cases = [
            (0, 0, Liveness::Fresh),
            (0, 14, Liveness::Fresh),
            (0, 15, Liveness::Silent),
            (0, 299, Liveness::Silent),
            (0, 300, Liveness::Forgotten),
            (100, 50, Liveness::Fresh),
        ];
        for (heard, now, expected) in cases {
            assert_eq!(
                liveness(s(heard), s(now), &windows()),
                expected,
                "{heard} {now}"
            );
        }
    }

    #[test]
    fn admission_orders_by_seq_then_by_ts() {
        let last_v2 = view(Hard, 0); // ts 1000, seq 10
        let last_v1 = CoordinatorView {
            last_seq: None,
            ..view(Hard, 0)
        };
        let event = |ts: f64, seq: Option<u64>| {
            let ev = FeedbackEvent::new("a", 1, 10, Ok, ts).expect("valid event");
            match seq {
                Some(seq) => ev.with_seq(seq),
                None => ev,
            }
        };
        let cases: &[(&str, Option<&CoordinatorView>, FeedbackEvent, Admission)] = &[
            ("first event", None, event(1000.0, None), Admission::Accept),
            (
                "v1 newer ts",
                Some(&last_v1),
                event(1001.0, None),
                Admission::Accept,
            ),
            (
                "v1 equal ts",
                Some(&last_v1),
                event(1000.0, None),
                Admission::Accept,
            ),
            (
                "v1 older ts",
                Some(&last_v1),
                event(999.0, None),
                Admission::OutOfOrder,
            ),
            (
                "v2 higher seq",
                Some(&last_v2),
                event(1000.5, Some(11)),
                Admission::Accept,
            ),
            (
                "v2 higher seq, older ts",
                Some(&last_v2),
                event(999.0, Some(11)),
                Admission::Accept,
            ),
            (
                "v2 same seq",
                Some(&last_v2),
                event(1001.0, Some(10)),
                Admission::OutOfOrder,
            ),
            (
                "v2 lower seq",
                Some(&last_v2),
                event(1001.0, Some(9)),
                Admission::OutOfOrder,
            ),
            (
                "v2 restarted store",
                Some(&last_v2),
                event(1015.0, Some(1)),
                Admission::Accept,
            ),
            (
                "v2 after v1",
                Some(&last_v1),
                event(999.0, Some(1)),
                Admission::OutOfOrder,
            ),
            (
                "stale on arrival",
                None,
                event(980.0, None),
                Admission::Stale,
            ),
            (
                "stale on arrival, newer",
                Some(&last_v1),
                event(984.9, Some(99)),
                Admission::Stale,
            ),
        ];
        for (name, last, event, expected) in cases {
            assert_eq!(admit(*last, event, 1000.0, &windows()), *expected, "{name}");
        }
    }
}
