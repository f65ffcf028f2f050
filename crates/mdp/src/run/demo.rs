//! The demonstration `mdp run` gives when no rate is given: a trading day squeezed into
//! about twenty seconds (a quiet open, bursts several times the sink's speed, a calm close)
//! into a sink held to a stated speed, so that the store falls behind, its level goes soft
//! and hard, and the pipeline slows down and pauses, with every bar written.
//!
//! The shape is a pure function of the time since the start; [`spawn_shaper`] applies it
//! to the pipeline's base rate (feedback still scales that rate down).

use std::sync::Arc;
use std::time::Duration;

use pipeline::RateCoordinator;
use tokio::time::Instant;
use tokio_util::task::AbortOnDropHandle;

/// The speed the demo holds the sink to, in bars per second.
pub(super) const SINK_RATE: f64 = 2_000.0;

/// The length of the demo's day when no `--duration` is given.
pub(super) const LENGTH: Duration = Duration::from_secs(20);

/// How often the shaper sets the base rate.
const RESHAPE_EVERY: Duration = Duration::from_millis(100);

/// Variables that set the pipeline's rate, like `--rate` does.
pub(super) const RATE_VARS: [&str; 1] = ["MDP_RATE_REFILL_PER_SEC"];

/// A part of the demo's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// The first minutes: a trickle, well within the sink's speed.
    QuietOpen,
    /// News: several times what the sink takes.
    Burst,
    /// Steady trading, a little under the sink's speed: the queue drains slowly.
    Busy,
    /// The last minutes: the queue drains.
    CalmClose,
}

impl Phase {
    /// The phase in words.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::QuietOpen => "quiet open",
            Self::Burst => "burst",
            Self::Busy => "busy",
            Self::CalmClose => "calm close",
        }
    }
}

/// One stretch of the day: until `until` (a fraction of the day) the pipeline asks a rate
/// going from `from` to `to` times the sink's speed.
struct Stretch {
    until: f64,
    from: f64,
    to: f64,
    phase: Phase,
}

const fn stretch(until: f64, from: f64, to: f64, phase: Phase) -> Stretch {
    Stretch {
        until,
        from,
        to,
        phase,
    }
}

/// The day, in fractions of its length and multiples of the sink's speed: three bursts of
/// 4, 5 and 3 times the sink (the first two long enough to fill the queue past its high
/// watermark, the third to its soft level only), with time between them for the queue to
/// drain, and a close long enough to write what is left.
const DAY: [Stretch; 7] = [
    stretch(0.15, 0.25, 0.6, Phase::QuietOpen),
    stretch(0.30, 4.0, 4.0, Phase::Burst),
    stretch(0.45, 0.8, 0.8, Phase::Busy),
    stretch(0.58, 5.0, 5.0, Phase::Burst),
    stretch(0.66, 0.9, 0.9, Phase::Busy),
    stretch(0.74, 3.0, 3.0, Phase::Burst),
    stretch(1.0, 0.35, 0.15, Phase::CalmClose),
];

/// The demo's shape over a day of `length` into a sink of `sink_rate` bars/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Shape {
    sink_rate: f64,
    length: Duration,
}

/// What the shape asks at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Ask {
    /// The part of the day.
    pub phase: Phase,
    /// Bars per second asked of the pipeline (before feedback scales it).
    pub rate: f64,
    /// That rate in multiples of the sink's speed.
    pub times_sink: f64,
}

impl Shape {
    /// The shape of a day of `length` (not zero) into a sink taking `sink_rate` bars/s.
    pub(super) fn new(sink_rate: f64, length: Duration) -> Self {
        Self { sink_rate, length }
    }

    /// The sink's speed the shape is drawn against.
    pub(super) fn sink_rate(&self) -> f64 {
        self.sink_rate
    }

    /// The highest multiple of the sink's speed asked over the day.
    pub(super) fn peak_times_sink() -> f64 {
        DAY.iter().map(|s| s.from.max(s.to)).fold(0.0, f64::max)
    }

    /// What the shape asks `at` after the start; after the day, what it asked at its end.
    pub(super) fn at(&self, at: Duration) -> Ask {
        let fraction = (at.as_secs_f64() / self.length.as_secs_f64().max(1e-9)).min(1.0);
        let mut start = 0.0;
        let mut current = &DAY[DAY.len() - 1];
        let mut within = 1.0;
        for stretch in &DAY {
            if fraction < stretch.until {
                current = stretch;
                within = (fraction - start) / (stretch.until - start);
                break;
            }
            start = stretch.until;
        }
        let times_sink = current.from + (current.to - current.from) * within;
        Ask {
            phase: current.phase,
            rate: times_sink * self.sink_rate,
            times_sink,
        }
    }

    /// One line saying what the demo does, for the start of a run.
    pub(super) fn describe(&self, sink: &str) -> String {
        format!(
            "demo: a trading day in {:.0} s (a quiet open, bursts up to {:.0}x the sink's speed, \
             a calm close) into {sink}, held to {} bars/s so that it falls behind; \
             give --rate or --sink-rate to run without the demo",
            self.length.as_secs_f64(),
            Self::peak_times_sink(),
            super::story::thousands(self.sink_rate.round() as u64),
        )
    }
}

/// Whether `mdp run` plays the demo: on the synthetic source when no rate is given, by
/// flag (`rate`, `sink_rate`) or by a variable of [`RATE_VARS`] (looked up with `var`).
pub(super) fn wanted(
    rate: Option<f64>,
    sink_rate: Option<f64>,
    csv: bool,
    var: impl Fn(&str) -> Option<String>,
) -> bool {
    rate.is_none() && sink_rate.is_none() && !csv && RATE_VARS.iter().all(|v| var(v).is_none())
}

/// Sets `provider`'s base rate to the shape's every 100 ms from `started` until dropped.
pub(super) fn spawn_shaper(
    rates: Arc<RateCoordinator>,
    provider: String,
    shape: Shape,
    started: Instant,
) -> AbortOnDropHandle<()> {
    AbortOnDropHandle::new(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(RESHAPE_EVERY);
        loop {
            ticker.tick().await;
            let ask = shape.at(started.elapsed());
            if let Err(error) = rates.set_base_rate(&provider, ask.rate) {
                tracing::warn!(%error, "the demo cannot set the rate");
                return;
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn the_day_opens_quietly_bursts_three_times_and_closes_calmly() {
        let shape = Shape::new(SINK_RATE, LENGTH);
        // at (s), phase, rate asked (bars/s)
        let cases: &[(f64, Phase, f64)] = &[
            (0.0, Phase::QuietOpen, 500.0),
            (1.5, Phase::QuietOpen, 850.0),
            (2.99, Phase::QuietOpen, 1_197.7),
            (3.0, Phase::Burst, 8_000.0),
            (5.9, Phase::Burst, 8_000.0),
            (6.0, Phase::Busy, 1_600.0),
            (9.0, Phase::Burst, 10_000.0),
            (11.5, Phase::Burst, 10_000.0),
            (11.61, Phase::Busy, 1_800.0),
            (13.21, Phase::Burst, 6_000.0),
            (14.81, Phase::CalmClose, 699.2),
            (17.4, Phase::CalmClose, 500.0),
            (20.0, Phase::CalmClose, 300.0),
            (60.0, Phase::CalmClose, 300.0),
        ];
        for &(at, phase, rate) in cases {
            let ask = shape.at(secs(at));
            assert_eq!(ask.phase, phase, "at {at} s");
            assert!(
                (ask.rate - rate).abs() < 0.5,
                "at {at} s: asked {} bars/s, expected {rate}",
                ask.rate
            );
            assert!((ask.times_sink * SINK_RATE - ask.rate).abs() < 1e-6);
        }
        assert_eq!(Shape::peak_times_sink(), 5.0);
    }

    #[test]
    fn a_longer_day_stretches_the_same_shape() {
        let day = Shape::new(SINK_RATE, LENGTH);
        let long = Shape::new(1_000.0, LENGTH * 3);
        for tenth in 0..=10u32 {
            let at = LENGTH.mul_f64(f64::from(tenth) / 10.0);
            let (a, b) = (day.at(at), long.at(at * 3));
            assert_eq!(a.phase, b.phase, "{tenth}/10 of the day");
            assert!((a.times_sink - b.times_sink).abs() < 1e-9, "{tenth}/10");
            assert!((b.rate - b.times_sink * 1_000.0).abs() < 1e-9);
        }
    }

    #[test]
    fn every_burst_outruns_the_sink_and_every_calm_stretch_lets_it_catch_up() {
        let shape = Shape::new(SINK_RATE, LENGTH);
        for ms in (0..20_000u64).step_by(50) {
            let ask = shape.at(Duration::from_millis(ms));
            match ask.phase {
                Phase::Burst => assert!(ask.times_sink >= 3.0, "{ms} ms: {ask:?}"),
                _ => assert!(ask.times_sink < 1.0, "{ms} ms: {ask:?}"),
            }
        }
    }

    #[test]
    fn a_rate_given_by_flag_or_variable_or_a_csv_turns_the_demo_off() {
        let none = |_: &str| None;
        let rate_var = |v: &str| (v == "MDP_RATE_REFILL_PER_SEC").then(|| "60".to_owned());
        assert!(wanted(None, None, false, none));
        assert!(!wanted(Some(60.0), None, false, none));
        assert!(!wanted(None, Some(2_000.0), false, none));
        assert!(!wanted(None, None, true, none));
        assert!(!wanted(None, None, false, rate_var));
    }

    #[test]
    fn the_description_states_the_sink_speed_and_how_to_turn_it_off() {
        let text = Shape::new(SINK_RATE, LENGTH).describe("sqlite://mdp.db");
        assert!(text.contains("in 20 s"), "{text}");
        assert!(text.contains("up to 5x"), "{text}");
        assert!(text.contains("held to 2 000 bars/s"), "{text}");
        assert!(text.contains("--rate or --sink-rate"), "{text}");
    }
}
