//! `FeedbackHandler`: admits feedback events, combines every store coordinator's level and
//! applies the resulting budget scale, publishing each adjustment it applies.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use core_contracts::{
    BackpressureLevel, Clock, EventEnvelope, FeedbackEvent, LEAVING_HEADER, RateAdjustment,
    RateController,
};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::{
    AdaptiveLaw, AdjustmentSink, Admission, Cause, CoordinatorView, Decision, FeedbackError,
    FeedbackMode, Liveness, ScalePolicy, WhenNoStore, Windows, adaptive_pressure, adaptive_scale,
    admit, aggregate, backlog_level, decide, liveness, rescale_needed,
};
use crate::config::FeedbackSettings;
use crate::telemetry::PipelineMetrics;
use core_contracts::TokioClock;

/// What became of one event.
#[derive(Debug, Clone, PartialEq)]
pub enum HandleOutcome {
    /// The level in force changed and this adjustment was applied.
    Applied(RateAdjustment),
    /// The event was admitted; the level in force is unchanged.
    Unchanged,
    /// The store said goodbye and was dropped; the level in force is unchanged.
    Left,
    /// The event was not used.
    Ignored(IgnoreReason),
}

impl HandleOutcome {
    /// `applied`, `unchanged`, `left` or the reason it was ignored, for logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Applied(_) => "applied",
            Self::Unchanged => "unchanged",
            Self::Left => "left",
            Self::Ignored(reason) => reason.as_str(),
        }
    }
}

/// Why an event was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// Older than the last event admitted from its coordinator.
    OutOfOrder,
    /// Older than the staleness window on arrival.
    Stale,
    /// Feedback is switched off (`MDP_FB_ENABLE_FEEDBACK=false`).
    Disabled,
}

impl IgnoreReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::OutOfOrder => "out_of_order",
            Self::Stale => "stale",
            Self::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Default)]
struct State {
    views: BTreeMap<String, CoordinatorView>,
    sources: BTreeSet<String>,
    applied: Option<BackpressureLevel>,
    scale: Option<f64>,
    cause: Option<&'static str>,
    backlog: u64,
    published: u64,
    /// Paused by an operator: scale 0 until resumed.
    held: bool,
    /// The adaptive law, in adaptive mode.
    law: Option<AdaptiveLaw>,
}

/// The adaptive law `settings` ask for, if any.
fn law_of(settings: &FeedbackSettings) -> Option<AdaptiveLaw> {
    (settings.mode == FeedbackMode::Adaptive).then(|| {
        AdaptiveLaw::new(settings.adaptive_floor).unwrap_or_else(|error| {
            tracing::warn!(%error, "adaptive floor out of range: the default holds");
            AdaptiveLaw::default()
        })
    })
}

/// Turns the stores' feedback into one provider's budget scale.
///
/// The level in force is the worst level among the store coordinators (see
/// [`super::aggregate`]); an adjustment is applied and published only when it changes, with
/// `ts` the triggering event's `ts` (or the clock's time when a silence triggers it). Events
/// are handled one at a time, in the order the calls arrive.
///
/// Call [`FeedbackHandler::handle`] for every decoded event, and run
/// [`FeedbackHandler::run_ticker`] (or [`FeedbackHandler::spawn_ticker`]) so that silences are
/// noticed when no event arrives.
pub struct FeedbackHandler {
    provider: String,
    enabled: bool,
    policy: ScalePolicy,
    windows: Windows,
    when_no_store: WhenNoStore,
    max_backlog: u64,
    tick_every: Duration,
    rate: Arc<dyn RateController>,
    sink: Arc<dyn AdjustmentSink>,
    clock: Arc<dyn Clock>,
    metrics: PipelineMetrics,
    state: Mutex<State>,
}

impl std::fmt::Debug for FeedbackHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackHandler")
            .field("provider", &self.provider)
            .field("enabled", &self.enabled)
            .field("policy", &self.policy)
            .field("windows", &self.windows)
            .field("sink", &self.sink)
            .finish_non_exhaustive()
    }
}

impl FeedbackHandler {
    /// A handler for `settings.provider_name` applying adjustments through `rate` and
    /// publishing them to `sink`, on tokio's clock with unregistered metrics.
    pub fn new(
        settings: &FeedbackSettings,
        rate: Arc<dyn RateController>,
        sink: Arc<dyn AdjustmentSink>,
    ) -> Self {
        Self {
            provider: settings.provider_name.clone(),
            enabled: settings.enabled,
            policy: settings.policy,
            windows: settings.windows,
            when_no_store: settings.when_no_store,
            max_backlog: settings.max_backlog,
            tick_every: settings.heartbeat.min(Duration::from_secs(1)),
            rate,
            sink,
            clock: Arc::new(TokioClock::new()),
            metrics: PipelineMetrics::default(),
            state: Mutex::new(State {
                law: law_of(settings),
                ..State::default()
            }),
        }
    }

    /// Reads time from `clock` (monotonic time for silences, wall time for stale events).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Records into `metrics`.
    pub fn with_metrics(mut self, metrics: PipelineMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The provider this handler adjusts.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Handles one decoded event.
    ///
    /// Returns an error only when the rate controller refused the adjustment: the caller
    /// should let the event be delivered again (the pending adjustment is retried by the
    /// next event or tick either way). A failure to publish is logged and counted.
    pub async fn handle(&self, event: FeedbackEvent) -> Result<HandleOutcome, FeedbackError> {
        if !self.enabled {
            self.ignored(&event, IgnoreReason::Disabled);
            return Ok(HandleOutcome::Ignored(IgnoreReason::Disabled));
        }
        let mut state = self.state.lock().await;
        let now = self.clock.elapsed();
        let admission = admit(
            state.views.get(&event.coordinator_id),
            &event,
            self.clock.unix_seconds(),
            &self.windows,
        );
        let ignored = match admission {
            Admission::Accept => {
                self.metrics.event_processed(&self.provider, event.level);
                state.sources.insert(event.source.clone());
                state.views.insert(
                    event.coordinator_id.clone(),
                    CoordinatorView::from_event(&event, now),
                );
                None
            }
            Admission::OutOfOrder => Some(IgnoreReason::OutOfOrder),
            Admission::Stale => Some(IgnoreReason::Stale),
        };
        if let Some(reason) = ignored {
            self.ignored(&event, reason);
        }
        let ts = ignored.is_none().then_some(event.ts);
        let applied = self.reconcile(&mut state, now, ts).await?;
        Ok(match (applied, ignored) {
            (Some(adjustment), _) => HandleOutcome::Applied(adjustment),
            (None, Some(reason)) => HandleOutcome::Ignored(reason),
            (None, None) => HandleOutcome::Unchanged,
        })
    }

    /// Handles one event as it came off the bus: a goodbye (header `leaving: true`) drops
    /// its store at once, anything else goes to [`FeedbackHandler::handle`].
    pub async fn handle_envelope(
        &self,
        event: &EventEnvelope<FeedbackEvent>,
    ) -> Result<HandleOutcome, FeedbackError> {
        if event.meta.headers.get(LEAVING_HEADER).map(String::as_str) == Some("true") {
            return self.handle_goodbye(&event.payload).await;
        }
        self.handle(event.payload.clone()).await
    }

    /// Drops the store coordinator of `event`, which stopped gracefully; a goodbye older than
    /// the staleness window (replayed history) is ignored like any stale event.
    pub async fn handle_goodbye(
        &self,
        event: &FeedbackEvent,
    ) -> Result<HandleOutcome, FeedbackError> {
        if !self.enabled {
            return Ok(HandleOutcome::Ignored(IgnoreReason::Disabled));
        }
        let mut state = self.state.lock().await;
        if admit(None, event, self.clock.unix_seconds(), &self.windows) == Admission::Stale {
            self.ignored(event, IgnoreReason::Stale);
            return Ok(HandleOutcome::Ignored(IgnoreReason::Stale));
        }
        if state.views.remove(&event.coordinator_id).is_some() {
            self.metrics
                .coordinator_left(&self.provider, &event.coordinator_id);
        }
        let now = self.clock.elapsed();
        let applied = self.reconcile(&mut state, now, Some(event.ts)).await?;
        Ok(applied.map_or(HandleOutcome::Left, HandleOutcome::Applied))
    }

    /// Takes `backlog` (entries of the bars stream not yet written: undelivered plus pending
    /// in the store group) as pressure: soft above half of `MDP_MAX_BACKLOG`, hard above it.
    /// Returns the adjustment applied, if the level changed.
    pub async fn observe_backlog(
        &self,
        backlog: u64,
    ) -> Result<Option<RateAdjustment>, FeedbackError> {
        let mark = self.published_mark().await;
        self.observe_backlog_since(backlog, mark).await
    }

    /// Like [`FeedbackHandler::observe_backlog`] for a reading started when
    /// [`FeedbackHandler::published_mark`] was `mark`: bars published since then are added,
    /// so a reading that raced a publish never makes the backlog look smaller than it is.
    pub async fn observe_backlog_since(
        &self,
        reading: u64,
        mark: u64,
    ) -> Result<Option<RateAdjustment>, FeedbackError> {
        let mut state = self.state.lock().await;
        let since = state.published.saturating_sub(mark);
        self.set_backlog(&mut state, reading.saturating_add(since))
            .await
    }

    /// Adds `n` bars just published to the backlog last observed, so that the pipeline holds
    /// within one batch of the limit rather than one backlog reading later.
    pub async fn published(&self, n: u64) -> Result<Option<RateAdjustment>, FeedbackError> {
        let mut state = self.state.lock().await;
        state.published = state.published.saturating_add(n);
        let backlog = state.backlog.saturating_add(n);
        self.set_backlog(&mut state, backlog).await
    }

    /// Bars published so far (through [`FeedbackHandler::published`]): take it just before
    /// reading the backlog, for [`FeedbackHandler::observe_backlog_since`].
    pub async fn published_mark(&self) -> u64 {
        self.state.lock().await.published
    }

    async fn set_backlog(
        &self,
        state: &mut State,
        backlog: u64,
    ) -> Result<Option<RateAdjustment>, FeedbackError> {
        state.backlog = backlog;
        self.metrics.backlog(&self.provider, backlog);
        if !self.enabled {
            return Ok(None);
        }
        let now = self.clock.elapsed();
        self.reconcile(state, now, None).await
    }

    /// The backlog last observed (plus what was published since).
    pub async fn backlog(&self) -> u64 {
        self.state.lock().await.backlog
    }

    /// Whether a live store is known (heard within the forget-after window); while none is,
    /// the `MDP_FB_WHEN_NO_STORE` policy holds.
    pub async fn store_known(&self) -> bool {
        let state = self.state.lock().await;
        let now = self.clock.elapsed();
        aggregate(
            state.views.iter().map(|(id, view)| (id.as_str(), view)),
            now,
            &self.windows,
        )
        .decided_by
        .is_some()
    }

    /// What puts the level last applied in force (`store`, `no_store`, `backlog`,
    /// `nothing`), if any was applied.
    pub async fn cause(&self) -> Option<&'static str> {
        self.state.lock().await.cause
    }

    /// Re-evaluates the level at the current time: silent coordinators turn soft, long-silent
    /// ones are forgotten. Returns the adjustment applied, if the level changed.
    pub async fn tick(&self) -> Result<Option<RateAdjustment>, FeedbackError> {
        if !self.enabled {
            return Ok(None);
        }
        let mut state = self.state.lock().await;
        let now = self.clock.elapsed();
        self.reconcile(&mut state, now, None).await
    }

    /// Ticks every second (or every heartbeat, if shorter) until every other owner of the
    /// handler has dropped it; a failed tick is logged and retried on the next one.
    pub async fn run_ticker(self: Arc<Self>) {
        let mut interval = tokio::time::interval(self.tick_every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if Arc::strong_count(&self) == 1 {
                return;
            }
            if let Err(error) = self.tick().await {
                self.metrics.tick_failed(&self.provider, &error);
            }
        }
    }

    /// Spawns [`FeedbackHandler::run_ticker`] on the current tokio runtime.
    pub fn spawn_ticker(self: &Arc<Self>) -> JoinHandle<()> {
        tokio::spawn(Arc::clone(self).run_ticker())
    }

    /// Holds the pipeline at scale 0 (`true`, an operator's pause) whatever the feedback says,
    /// or lets the feedback decide again (`false`, resume); applies at once. Returns whether
    /// that changed anything, and the adjustment applied, if any. Works with feedback
    /// switched off too.
    pub async fn hold(&self, held: bool) -> Result<(bool, Option<RateAdjustment>), FeedbackError> {
        let mut state = self.state.lock().await;
        let changed = state.held != held;
        state.held = held;
        let now = self.clock.elapsed();
        let applied = self.reconcile(&mut state, now, None).await?;
        Ok((changed, applied))
    }

    /// Whether an operator holds the pipeline paused ([`FeedbackHandler::hold`]).
    pub async fn held(&self) -> bool {
        self.state.lock().await.held
    }

    /// The level last applied, if any.
    pub async fn applied_level(&self) -> Option<BackpressureLevel> {
        self.state.lock().await.applied
    }

    /// What is known of every coordinator not yet forgotten, by coordinator id.
    pub async fn coordinators(&self) -> BTreeMap<String, CoordinatorView> {
        self.state.lock().await.views.clone()
    }

    fn ignored(&self, event: &FeedbackEvent, reason: IgnoreReason) {
        self.metrics
            .event_ignored(&self.provider, &event.coordinator_id, reason.as_str());
    }

    /// Forgets long-silent coordinators and applies the level in force if it changed (in
    /// adaptive mode, also when the law's scale moved).
    async fn reconcile(
        &self,
        state: &mut State,
        now: Duration,
        event_ts: Option<f64>,
    ) -> Result<Option<RateAdjustment>, FeedbackError> {
        let agg = aggregate(
            state.views.iter().map(|(id, view)| (id.as_str(), view)),
            now,
            &self.windows,
        );
        for id in &agg.forgotten {
            if let Some(view) = state.views.remove(id) {
                let silence = now.saturating_sub(view.heard_at);
                self.metrics
                    .coordinator_forgotten(&self.provider, id, silence);
            }
        }
        self.metrics
            .coordinators_known(&self.provider, agg.fresh, agg.silent);
        for source in &state.sources {
            let depth = state
                .views
                .values()
                .filter(|view| &view.source == source)
                .map(|view| view.queue_size)
                .sum();
            self.metrics.queue_depth(source, depth);
        }
        let decision = if state.held {
            Decision {
                level: BackpressureLevel::Hard,
                cause: Cause::Operator,
            }
        } else {
            decide(
                &agg,
                self.when_no_store,
                backlog_level(state.backlog, self.max_backlog),
            )
        };
        self.metrics.no_store(
            &self.provider,
            decision.cause == Cause::NoStore,
            state.applied.is_none(),
        );
        let scale = match state.law.as_mut() {
            None => self.policy.scale_for(decision.level),
            Some(law) => {
                // a store reports its utilization when it moved, so what is known of a live
                // store is its utilization now (to a percent): ticks read it as well
                let live = state
                    .views
                    .values()
                    .filter(|view| liveness(view.heard_at, now, &self.windows) == Liveness::Fresh)
                    .map(|view| view.utilization);
                law.observe(
                    now,
                    adaptive_pressure(live, state.backlog, self.max_backlog),
                );
                law.hard(
                    decision.level == BackpressureLevel::Hard
                        && matches!(decision.cause, Cause::Store(_) | Cause::Backlog),
                );
                adaptive_scale(&decision, agg.silent > 0, &self.policy, law.scale())
            }
        };
        let scale = if state.held { 0.0 } else { scale };
        // in levels mode a level has one scale, except while held (0) and just after
        let unchanged = state.applied == Some(decision.level)
            && match state.law {
                None => state.scale == Some(scale),
                Some(_) => !rescale_needed(state.scale, scale),
            };
        if unchanged {
            state.cause = Some(decision.cause.as_str());
            return Ok(None);
        }
        if state.applied.is_none() && decision.cause == Cause::Nothing {
            return Ok(None);
        }
        let ts = event_ts.unwrap_or_else(|| self.clock.unix_seconds());
        let mut adjustment = RateAdjustment::new(self.provider.clone(), scale, decision.level, ts)?;
        if let Cause::Store(id) = &decision.cause {
            adjustment = adjustment.with_coordinator(id.clone());
        }
        self.rate
            .apply(adjustment.clone())
            .await
            .map_err(|source| FeedbackError::Apply {
                provider: self.provider.clone(),
                source,
            })?;
        let previous = state.applied.replace(decision.level);
        if previous != Some(decision.level) {
            tracing::info!(
                provider = self.provider,
                level = decision.level.as_str(),
                from = previous.map_or("none", BackpressureLevel::as_str),
                scale,
                cause = decision.cause.as_str(),
                coordinator_id = adjustment.coordinator_id.as_deref().unwrap_or("-"),
                "pipeline level changed"
            );
        }
        state.scale = Some(scale);
        state.cause = Some(decision.cause.as_str());
        self.metrics
            .adjustment_applied(&adjustment, decision.cause.as_str(), state.backlog);
        if let Err(error) = self.sink.publish(&adjustment).await {
            self.metrics
                .adjustment_publish_failed(&self.provider, &error);
        }
        Ok(Some(adjustment))
    }
}
