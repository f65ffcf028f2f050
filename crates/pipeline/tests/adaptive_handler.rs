//! The feedback handler in adaptive mode (`MDP_FB_MODE=adaptive`), on tokio's paused clock:
//! utilization reports move the scale smoothly, a hard level still pauses, and the other
//! inputs (no store, the backlog) keep their meaning.

mod support;

use std::sync::Arc;
use std::time::Duration;

use core_contracts::{BackpressureLevel, FeedbackEvent, TokioClock};
use pipeline::PipelineSettings;
use pipeline::config::FeedbackSettings;
use pipeline::feedback::{FeedbackHandler, FeedbackMode, NoopSink};
use support::{RecordingController, env};
use tokio::time::advance;

use BackpressureLevel::{Hard, Ok as Fine, Soft};

const T0: f64 = 1_700_000_000.0;
const CAPACITY: u64 = 10_000;
const REPORT: Duration = Duration::from_millis(250);

struct Rig {
    handler: FeedbackHandler,
    controller: Arc<RecordingController>,
    clock: TokioClock,
    seq: u64,
}

impl Rig {
    fn new() -> Self {
        Self::with(FeedbackSettings {
            mode: FeedbackMode::Adaptive,
            ..FeedbackSettings::default()
        })
    }

    fn with(settings: FeedbackSettings) -> Self {
        let controller = Arc::new(RecordingController::default());
        let clock = TokioClock::starting_at(T0);
        let handler = FeedbackHandler::new(&settings, controller.clone(), Arc::new(NoopSink))
            .with_clock(Arc::new(clock));
        Self {
            handler,
            controller,
            clock,
            seq: 0,
        }
    }

    /// Store `a` reports `size` bars at `level`, now.
    async fn report(&mut self, size: u64, level: BackpressureLevel) {
        self.seq += 1;
        let ts = core_contracts::Clock::unix_seconds(&self.clock);
        let event = FeedbackEvent::new("a", size, CAPACITY, level, ts)
            .expect("valid event")
            .with_reason("utilization")
            .with_seq(self.seq);
        self.handler.handle(event).await.expect("handled");
    }

    fn scale(&self) -> f64 {
        *self.controller.scales().last().expect("an adjustment")
    }
}

#[tokio::test(start_paused = true)]
async fn a_queue_above_the_target_lowers_the_scale_smoothly_and_never_to_zero() {
    let mut rig = Rig::new();
    rig.report(6_500, Soft).await;
    assert_eq!(rig.scale(), 1.0, "the first report is the reference");
    let mut scales = vec![rig.scale()];
    for size in [6_700, 6_900, 7_100, 7_100, 7_100, 7_100] {
        advance(REPORT).await;
        rig.report(size, Soft).await;
        scales.push(rig.scale());
    }
    for pair in scales.windows(2) {
        assert!(
            pair[1] < pair[0],
            "the scale falls step by step: {scales:?}"
        );
        assert!(pair[1] > pair[0] * 0.7, "by small steps: {scales:?}");
    }
    assert!(
        scales.iter().all(|&s| s > 0.0 && s != 0.5),
        "soft is neither a pause nor the levels' half: {scales:?}"
    );
    // the queue falls back below the target: the scale rises again, at most twofold a second
    let low = rig.scale();
    for size in [6_000, 5_000, 4_000, 3_000] {
        advance(REPORT).await;
        rig.report(size, Soft).await;
    }
    let risen = rig.scale();
    assert!(risen > low && risen <= low * 2.0 + 1e-9, "{low} -> {risen}");
}

#[tokio::test(start_paused = true)]
async fn a_steady_queue_at_the_target_applies_nothing_new() {
    let mut rig = Rig::new();
    rig.report(6_500, Soft).await;
    let applied = rig.controller.scales().len();
    for _ in 0..20 {
        advance(REPORT).await;
        rig.report(6_500, Soft).await;
    }
    assert_eq!(
        rig.controller.scales().len(),
        applied,
        "no adjustment at rest"
    );
}

#[tokio::test(start_paused = true)]
async fn hard_pauses_and_the_pipeline_resumes_below_half_the_scale() {
    let mut rig = Rig::new();
    rig.report(6_500, Soft).await;
    advance(REPORT).await;
    rig.report(7_000, Soft).await;
    let before = rig.scale();
    advance(Duration::from_millis(50)).await;
    rig.report(8_000, Hard).await;
    assert_eq!(rig.scale(), 0.0, "hard is a pause in adaptive mode too");
    // the paused queue drains for a second and a half
    for size in [7_000, 6_000, 5_000] {
        advance(Duration::from_millis(500)).await;
        let level = if size > 5_000 { Hard } else { Fine };
        rig.report(size, level).await;
    }
    // the reading that turned hard lowered the scale once more, then it was halved; the
    // drain while paused did not raise it
    let resumed = rig.scale();
    assert!(
        resumed > 0.01 && resumed <= before / 2.0,
        "resumes below half of {before}, got {resumed}"
    );
}

#[tokio::test(start_paused = true)]
async fn no_store_known_still_holds_in_adaptive_mode() {
    let rig = Rig::new();
    rig.handler.tick().await.expect("ticks");
    assert_eq!(rig.controller.scales(), vec![0.0]);
    assert!(!rig.handler.store_known().await);
}

#[tokio::test(start_paused = true)]
async fn the_backlog_is_pressure_too() {
    let mut rig = Rig::new();
    rig.report(0, Fine).await;
    assert_eq!(rig.scale(), 1.0);
    // 40 000 of 50 000: above the target, below the hard limit
    for backlog in [10_000, 25_000, 40_000, 40_000] {
        advance(Duration::from_millis(100)).await;
        rig.handler
            .observe_backlog(backlog)
            .await
            .expect("observed");
    }
    let scale = rig.scale();
    assert!(scale > 0.0 && scale < 0.5, "{scale}");
    rig.handler.observe_backlog(50_001).await.expect("observed");
    assert_eq!(rig.scale(), 0.0, "over MDP_MAX_BACKLOG the pipeline holds");
}

#[tokio::test(start_paused = true)]
async fn a_floor_out_of_range_given_in_code_keeps_adaptive_mode_on_the_default_floor() {
    let mut rig = Rig::with(FeedbackSettings {
        mode: FeedbackMode::Adaptive,
        adaptive_floor: 0.0,
        ..FeedbackSettings::default()
    });
    rig.report(6_500, Soft).await;
    advance(REPORT).await;
    rig.report(7_000, Soft).await;
    let scale = rig.scale();
    assert!(
        scale > 0.0 && scale < 1.0 && scale != 0.5,
        "adaptive: {scale}"
    );
}

#[test]
fn the_mode_and_its_floor_come_from_the_environment() {
    let settings =
        PipelineSettings::from_lookup(&env(&[("MDP_FB_MODE", "adaptive")])).expect("valid");
    assert_eq!(settings.feedback.mode, FeedbackMode::Adaptive);
    assert_eq!(settings.feedback.adaptive_floor, 0.01);
    let defaults = PipelineSettings::from_lookup(&env(&[])).expect("valid");
    assert_eq!(defaults.feedback.mode, FeedbackMode::Levels);
    let floor =
        PipelineSettings::from_lookup(&env(&[("MDP_FB_ADAPTIVE_FLOOR", "0.2")])).expect("valid");
    assert_eq!(floor.feedback.adaptive_floor, 0.2);
    for (name, value) in [
        ("MDP_FB_MODE", "smooth"),
        ("MDP_FB_ADAPTIVE_FLOOR", "0"),
        ("MDP_FB_ADAPTIVE_FLOOR", "1.5"),
    ] {
        let error = PipelineSettings::from_lookup(&env(&[(name, value)]))
            .expect_err("refused")
            .to_string();
        assert!(error.contains(name), "{error}");
    }
}
