//! Behaviour of the feedback handler on tokio's paused clock.

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use core_contracts::{BackpressureLevel, FeedbackEvent, RateAdjustment, TokioClock};
use pipeline::config::FeedbackSettings;
use pipeline::feedback::{
    ChannelSink, FeedbackHandler, HandleOutcome, IgnoreReason, NoopSink, WhenNoStore,
};
use pipeline::rate::{ProviderConfig, RateCoordinator, RateCoordinatorAdapter};
use pipeline::{PipelineMetrics, PipelineSettings};
use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use support::{FailingSink, RecordingController, env};
use tokio::time::advance;

use BackpressureLevel::{Hard, Ok as Fine, Soft};

const T0: f64 = 1_700_000_000.0;

struct Rig {
    handler: Arc<FeedbackHandler>,
    controller: Arc<RecordingController>,
    clock: TokioClock,
    metrics: PipelineMetrics,
}

fn rig_with(settings: FeedbackSettings) -> Rig {
    let controller = Arc::new(RecordingController::default());
    let clock = TokioClock::starting_at(T0);
    let metrics = PipelineMetrics::default();
    let handler = FeedbackHandler::new(&settings, controller.clone(), Arc::new(NoopSink))
        .with_clock(Arc::new(clock))
        .with_metrics(metrics.clone());
    Rig {
        handler: Arc::new(handler),
        controller,
        clock,
        metrics,
    }
}

fn rig() -> Rig {
    rig_with(FeedbackSettings::default())
}

/// An event from `coordinator` at `level`, stamped `ts_offset` seconds after `T0`.
fn event(coordinator: &str, level: BackpressureLevel, ts_offset: f64) -> FeedbackEvent {
    FeedbackEvent::new(coordinator, 10, 100, level, T0 + ts_offset).expect("valid event")
}

fn now(clock: &TokioClock) -> f64 {
    core_contracts::Clock::unix_seconds(clock) - T0
}

async fn handle(rig: &Rig, event: FeedbackEvent) -> HandleOutcome {
    rig.handler.handle(event).await.expect("handled")
}

#[tokio::test(start_paused = true)]
async fn levels_map_to_the_default_scales() {
    let rig = rig();
    for (i, (level, scale)) in [(Fine, 1.0), (Soft, 0.5), (Hard, 0.0), (Fine, 1.0)]
        .into_iter()
        .enumerate()
    {
        let ev = event("a", level, i as f64);
        let outcome = handle(&rig, ev.clone()).await;
        let expected = RateAdjustment::new("ibkr", scale, level, ev.ts)
            .expect("valid")
            .with_coordinator("a");
        assert_eq!(outcome, HandleOutcome::Applied(expected), "{level}");
    }
    assert_eq!(rig.controller.scales(), vec![1.0, 0.5, 0.0, 1.0]);
}

#[tokio::test(start_paused = true)]
async fn custom_policies_come_from_the_environment() {
    let lookup = env(&[
        ("MDP_FB_SCALE_OK", "0.9"),
        ("MDP_FB_SCALE_SOFT", "0.3"),
        ("MDP_FB_SCALE_HARD", "0.1"),
        ("MDP_FB_PROVIDER_NAME", "polygon"),
    ]);
    let settings = PipelineSettings::from_lookup(&lookup).expect("valid settings");
    let rig = rig_with(settings.feedback);
    for (i, level) in [Hard, Soft, Fine].into_iter().enumerate() {
        handle(&rig, event("a", level, i as f64)).await;
    }
    assert_eq!(rig.controller.scales(), vec![0.1, 0.3, 0.9]);
    assert!(
        rig.controller
            .applied()
            .iter()
            .all(|a| a.provider == "polygon")
    );
}

#[tokio::test(start_paused = true)]
async fn adjustments_drive_a_real_rate_coordinator() {
    let rates = Arc::new(RateCoordinator::new());
    rates
        .register_provider("ibkr", ProviderConfig::default())
        .expect("provider");
    let (sink, mut published) = ChannelSink::new();
    let handler = FeedbackHandler::new(
        &FeedbackSettings::default(),
        Arc::new(RateCoordinatorAdapter::new(rates.clone())),
        Arc::new(sink),
    )
    .with_clock(Arc::new(TokioClock::starting_at(T0)));
    for (i, (level, scale)) in [(Soft, 0.5), (Hard, 0.0), (Fine, 1.0)]
        .into_iter()
        .enumerate()
    {
        let ev = event("a", level, i as f64);
        handler.handle(ev.clone()).await.expect("handled");
        let state = rates.get_provider_state("ibkr").expect("state");
        assert_eq!((state.scale, state.pressure), (scale, level));
        let adjustment = published.try_recv().expect("one adjustment published");
        assert_eq!((adjustment.scale, adjustment.ts), (scale, ev.ts));
    }
    assert!(published.try_recv().is_err(), "nothing else published");
}

#[tokio::test(start_paused = true)]
async fn an_ok_from_one_coordinator_never_cancels_a_hard_from_another() {
    let rig = rig();
    handle(&rig, event("a", Hard, 0.0)).await;
    let outcome = handle(&rig, event("b", Fine, 1.0)).await;
    assert_eq!(outcome, HandleOutcome::Unchanged);
    assert_eq!(rig.handler.applied_level().await, Some(Hard));
    assert_eq!(rig.controller.scales(), vec![0.0]);
    // Once a recovers, b's ok is the level in force.
    let outcome = handle(&rig, event("a", Fine, 2.0)).await;
    assert!(matches!(outcome, HandleOutcome::Applied(ref a) if a.scale == 1.0));
}

#[tokio::test(start_paused = true)]
async fn an_event_older_than_the_last_from_its_coordinator_is_ignored() {
    let rig = rig();
    handle(&rig, event("a", Soft, 2.0)).await;
    let outcome = handle(&rig, event("a", Hard, 1.0)).await;
    assert_eq!(outcome, HandleOutcome::Ignored(IgnoreReason::OutOfOrder));
    assert_eq!(rig.controller.scales(), vec![0.5]);
}

#[tokio::test(start_paused = true)]
async fn on_v2_the_sequence_number_orders_events() {
    let rig = rig();
    handle(&rig, event("a", Soft, 1.0).with_seq(7)).await;
    // A later ts cannot rescue a lower seq.
    let outcome = handle(&rig, event("a", Hard, 2.0).with_seq(6)).await;
    assert_eq!(outcome, HandleOutcome::Ignored(IgnoreReason::OutOfOrder));
    let outcome = handle(&rig, event("a", Hard, 1.5).with_seq(8)).await;
    assert!(matches!(outcome, HandleOutcome::Applied(ref a) if a.reason == Hard));
}

#[tokio::test(start_paused = true)]
async fn an_event_already_stale_on_arrival_is_ignored() {
    // MDP_FB_WHEN_NO_STORE=ok, so that ignoring the event changes nothing at all.
    let rig = rig_with(FeedbackSettings {
        when_no_store: WhenNoStore::Ok,
        ..FeedbackSettings::default()
    });
    advance(Duration::from_secs(60)).await;
    let outcome = handle(&rig, event("a", Hard, 30.0)).await;
    assert_eq!(outcome, HandleOutcome::Ignored(IgnoreReason::Stale));
    assert!(rig.controller.applied().is_empty());
    assert!(rig.handler.coordinators().await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn with_no_store_known_the_pipeline_holds_until_one_is_heard() {
    let cases = [
        (WhenNoStore::Pause, Some(0.0)),
        (WhenNoStore::Soft, Some(0.5)),
        (WhenNoStore::Ok, None),
    ];
    for (policy, held_at) in cases {
        let rig = rig_with(FeedbackSettings {
            when_no_store: policy,
            ..FeedbackSettings::default()
        });
        let applied = rig.handler.tick().await.expect("ticks");
        assert_eq!(applied.map(|a| a.scale), held_at, "{policy:?}");
        assert!(!rig.handler.store_known().await);
        assert_eq!(no_store_gauge(&rig.metrics), i64::from(held_at.is_some()));
        let outcome = handle(&rig, event("a", Fine, 0.0)).await;
        assert!(
            matches!(outcome, HandleOutcome::Applied(ref a) if a.scale == 1.0),
            "{policy:?}: {outcome:?}"
        );
        assert!(rig.handler.store_known().await);
        assert_eq!(no_store_gauge(&rig.metrics), 0);
        assert_eq!(rig.handler.cause().await, Some("store"));
    }
}

#[tokio::test(start_paused = true)]
async fn the_bars_backlog_is_pressure_soft_above_half_and_hard_above_the_limit() {
    let rig = rig_with(FeedbackSettings {
        max_backlog: 1000,
        ..FeedbackSettings::default()
    });
    handle(&rig, event("a", Fine, 0.0)).await;
    let cases = [
        (400, None),
        (501, Some((Soft, 0.5))),
        (1000, None),
        (1001, Some((Hard, 0.0))),
        (600, Some((Soft, 0.5))),
        (0, Some((Fine, 1.0))),
    ];
    for (backlog, change) in cases {
        let applied = rig
            .handler
            .observe_backlog(backlog)
            .await
            .expect("observed");
        assert_eq!(
            applied.as_ref().map(|a| (a.reason, a.scale)),
            change,
            "backlog {backlog}"
        );
        if let Some(a) = applied.filter(|a| a.reason != Fine) {
            assert_eq!(a.coordinator_id, None, "the backlog, not a store, holds");
            assert_eq!(rig.handler.cause().await, Some("backlog"));
        }
    }
    // Bars published since the last reading count at once.
    rig.handler.observe_backlog(900).await.expect("observed");
    let applied = rig.handler.published(500).await.expect("counted");
    assert_eq!(applied.map(|a| a.reason), Some(Hard));
    assert_eq!(rig.handler.backlog().await, 1400);
    assert_eq!(backlog_gauge(&rig.metrics), 1400);
    // A reading started before a publish finished does not lose that publish.
    let mark = rig.handler.published_mark().await;
    rig.handler.published(300).await.expect("counted");
    rig.handler
        .observe_backlog_since(800, mark)
        .await
        .expect("observed");
    assert_eq!(rig.handler.backlog().await, 1100);
    // A store's hard outranks a soft backlog, and names the store.
    rig.handler.observe_backlog(600).await.expect("observed");
    let outcome = handle(&rig, event("a", Hard, 1.0)).await;
    assert!(
        matches!(outcome, HandleOutcome::Applied(ref a) if a.coordinator_id.as_deref() == Some("a")),
        "{outcome:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_hard_coordinator_counts_as_soft_after_three_heartbeats_then_is_forgotten() {
    let rig = rig();
    handle(&rig, event("a", Hard, 0.0)).await;
    // b keeps heartbeating ok every 5 s; a says nothing more.
    let mut soft_at = None;
    let mut ok_at = None;
    for _ in 0..70 {
        advance(Duration::from_secs(5)).await;
        let t = now(&rig.clock);
        if let HandleOutcome::Applied(adj) = handle(&rig, event("b", Fine, t)).await {
            match adj.reason {
                Soft => {
                    assert_eq!(adj.coordinator_id.as_deref(), Some("a"));
                    assert_eq!(adj.ts, T0 + t);
                    soft_at = Some(t);
                }
                Fine => ok_at = Some(t),
                Hard => panic!("hard again at {t}"),
            }
        }
    }
    assert_eq!(soft_at, Some(15.0), "soft after three missed heartbeats");
    assert_eq!(
        ok_at,
        Some(300.0),
        "forgotten after MDP_FB_FORGET_AFTER_SEC"
    );
    assert_eq!(rig.controller.scales(), vec![0.0, 0.5, 1.0]);
    assert!(!rig.handler.coordinators().await.contains_key("a"));
    assert_eq!(forgotten_count(&rig.metrics), 1);
}

#[tokio::test(start_paused = true)]
async fn the_ticker_notices_a_silence_when_no_event_arrives() {
    let rig = rig();
    let ticker = rig.handler.spawn_ticker();
    settle().await;
    handle(&rig, event("a", Hard, 0.0)).await;
    advance(Duration::from_secs(14)).await;
    tokio::task::yield_now().await;
    assert_eq!(rig.controller.scales(), vec![0.0]);
    // The tick at 15 s turns the silent coordinator soft; the one at 300 s forgets it.
    advance(Duration::from_secs(1)).await;
    settle().await;
    assert_eq!(rig.controller.scales(), vec![0.0, 0.5]);
    advance(Duration::from_secs(285)).await;
    settle().await;
    // Forgotten, no store is known any more: the pipeline holds (MDP_FB_WHEN_NO_STORE).
    assert_eq!(rig.controller.scales(), vec![0.0, 0.5, 0.0]);
    let forgotten = rig.controller.applied()[2].clone();
    assert_eq!((forgotten.coordinator_id, forgotten.ts), (None, T0 + 300.0));
    assert_eq!(rig.handler.cause().await, Some("no_store"));
    ticker.abort();
}

#[tokio::test(start_paused = true)]
async fn a_refused_adjustment_is_an_error_and_is_retried_by_the_next_event() {
    let rig = rig();
    rig.controller.fail.store(true, Ordering::SeqCst);
    let err = rig
        .handler
        .handle(event("a", Hard, 0.0))
        .await
        .expect_err("controller refused");
    assert!(err.to_string().contains("controller refused"), "{err}");
    assert_eq!(rig.handler.applied_level().await, None);
    rig.controller.fail.store(false, Ordering::SeqCst);
    // The redelivered event applies the pending adjustment.
    let outcome = handle(&rig, event("a", Hard, 0.0)).await;
    assert!(matches!(outcome, HandleOutcome::Applied(ref a) if a.scale == 0.0));
}

#[tokio::test(start_paused = true)]
async fn a_failed_publish_is_counted_and_the_adjustment_stays_applied() {
    let controller = Arc::new(RecordingController::default());
    let metrics = PipelineMetrics::default();
    let handler = FeedbackHandler::new(
        &FeedbackSettings::default(),
        controller.clone(),
        Arc::new(FailingSink),
    )
    .with_clock(Arc::new(TokioClock::starting_at(T0)))
    .with_metrics(metrics.clone());
    let outcome = handler
        .handle(event("a", Soft, 0.0))
        .await
        .expect("handled");
    assert!(matches!(outcome, HandleOutcome::Applied(_)));
    assert_eq!(controller.scales(), vec![0.5]);
    let text = exposition(&metrics);
    assert!(
        text.contains("pipeline_adjustment_publish_errors_total{provider=\"ibkr\"} 1"),
        "{text}"
    );
}

#[tokio::test(start_paused = true)]
async fn repeated_heartbeats_apply_nothing_new() {
    let rig = rig();
    for i in 0..5 {
        handle(&rig, event("a", Soft, f64::from(i))).await;
    }
    assert_eq!(rig.controller.scales(), vec![0.5]);
}

#[tokio::test(start_paused = true)]
async fn disabled_feedback_applies_nothing() {
    let settings = PipelineSettings::from_lookup(&env(&[("MDP_FB_ENABLE_FEEDBACK", "false")]))
        .expect("valid settings");
    let rig = rig_with(settings.feedback);
    let outcome = handle(&rig, event("a", Hard, 0.0)).await;
    assert_eq!(outcome, HandleOutcome::Ignored(IgnoreReason::Disabled));
    assert_eq!(rig.handler.tick().await.expect("tick"), None);
    assert!(rig.controller.applied().is_empty());
}

#[tokio::test(start_paused = true)]
async fn metrics_are_exposed_under_the_spec_names() {
    let rig = rig();
    let rates = RateCoordinator::with_clock(Arc::new(rig.clock), rig.metrics.clone());
    rates
        .register_provider("ibkr", ProviderConfig::default())
        .expect("provider");
    handle(&rig, event("a", Soft, 0.0)).await;
    handle(&rig, event("a", Soft, -1.0)).await;
    let text = exposition(&rig.metrics);
    for line in [
        "pipeline_rate_scale_factor{provider=\"ibkr\"} 0.5",
        "pipeline_backpressure_state{provider=\"ibkr\"} 1",
        "pipeline_feedback_queue_depth{source=\"store\"} 10",
        "feedback_events_processed_total{provider=\"ibkr\",level=\"soft\"} 1",
        "pipeline_rate_adjustments_total{provider=\"ibkr\",reason=\"soft\"} 1",
        "pipeline_feedback_events_ignored_total{provider=\"ibkr\",reason=\"out_of_order\"} 1",
        "pipeline_feedback_coordinators{provider=\"ibkr\",liveness=\"fresh\"} 1",
        "pipeline_rate_tokens_granted_total{provider=\"ibkr\"} 0",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

fn exposition(metrics: &PipelineMetrics) -> String {
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    encode(&mut text, &registry).expect("encodes");
    text
}

fn ibkr() -> pipeline::telemetry::ProviderLabels {
    pipeline::telemetry::ProviderLabels {
        provider: "ibkr".into(),
    }
}

fn forgotten_count(metrics: &PipelineMetrics) -> u64 {
    metrics.coordinators_forgotten.get_or_create(&ibkr()).get()
}

fn no_store_gauge(metrics: &PipelineMetrics) -> i64 {
    metrics.no_store.get_or_create(&ibkr()).get()
}

fn backlog_gauge(metrics: &PipelineMetrics) -> i64 {
    metrics.bars_backlog.get_or_create(&ibkr()).get()
}

#[tokio::test(start_paused = true)]
async fn an_operators_pause_holds_scale_zero_whatever_the_stores_say_until_resumed() {
    // a hard policy that is not a full stop, so that the pause is seen to go further
    let lookup = env(&[("MDP_FB_SCALE_HARD", "0.2")]);
    let rig = rig_with(
        PipelineSettings::from_lookup(&lookup)
            .expect("valid settings")
            .feedback,
    );
    handle(&rig, event("a", Fine, 0.0)).await;
    let (changed, applied) = rig.handler.hold(true).await.expect("held");
    assert!(changed);
    let applied = applied.expect("an adjustment");
    assert_eq!((applied.scale, applied.reason), (0.0, Hard));
    assert!(rig.handler.held().await);
    // the stores say ok, then hard, then ok: nothing moves the scale off 0
    for (i, level) in [Fine, Hard, Fine].into_iter().enumerate() {
        let outcome = handle(&rig, event("a", level, 1.0 + i as f64)).await;
        assert!(
            !matches!(outcome, HandleOutcome::Applied(ref adj) if adj.scale > 0.0),
            "{level}: {outcome:?}"
        );
    }
    advance(Duration::from_secs(5)).await;
    assert_eq!(rig.handler.tick().await.expect("tick"), None);
    assert_eq!(*rig.controller.scales().last().expect("scales"), 0.0);
    // a second pause changes nothing; resume gives the stores' level back at once
    assert!(!rig.handler.hold(true).await.expect("held").0);
    handle(&rig, event("a", Fine, 6.0)).await;
    let (changed, applied) = rig.handler.hold(false).await.expect("resumed");
    assert!(changed && !rig.handler.held().await);
    let applied = applied.expect("the stores' level again");
    assert_eq!((applied.scale, applied.reason), (1.0, Fine));
}

#[tokio::test(start_paused = true)]
async fn a_resume_while_the_stores_are_hard_gives_the_hard_scale_back() {
    let lookup = env(&[("MDP_FB_SCALE_HARD", "0.2")]);
    let rig = rig_with(
        PipelineSettings::from_lookup(&lookup)
            .expect("valid settings")
            .feedback,
    );
    handle(&rig, event("a", Hard, 0.0)).await;
    assert_eq!(rig.controller.scales(), vec![0.2]);
    rig.handler.hold(true).await.expect("held");
    assert_eq!(rig.handler.cause().await, Some("operator"));
    handle(&rig, event("a", Hard, 1.0)).await;
    let (_, applied) = rig.handler.hold(false).await.expect("resumed");
    let applied = applied.expect("the stores' hard scale again");
    assert_eq!((applied.scale, applied.reason), (0.2, Hard));
    assert_eq!(rig.controller.scales(), vec![0.2, 0.0, 0.2]);
    assert_eq!(rig.handler.cause().await, Some("store"));
}
