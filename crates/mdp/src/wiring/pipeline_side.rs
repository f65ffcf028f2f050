//! The pipeline side: the rate coordinator of the provider, the feedback handler steering it
//! (through a [`ScaleRecorder`] that remembers how long each scale was in force) and the
//! Pulse feedback consumer feeding the handler.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use core_contracts::{BackpressureLevel, BoxError, RateAdjustment, RateController};
use pipeline::rate::ProviderConfig;
use pipeline::{
    FeedbackConsumer, FeedbackHandler, PipelineSettings, PulseAdjustmentSink, RateCoordinator,
    RateCoordinatorAdapter, TokioClock,
};
use pulse::{CancellationToken, Pulse, RunnerReport};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::telemetry::Metrics;

/// Applies adjustments to the rate coordinator and records the time spent at each scale.
#[derive(Debug)]
pub struct ScaleRecorder {
    inner: RateCoordinatorAdapter,
    state: Mutex<ScaleState>,
}

#[derive(Debug)]
struct ScaleState {
    scale: f64,
    level: BackpressureLevel,
    since: Instant,
    spent: BTreeMap<String, Duration>,
    adjustments: u64,
}

impl ScaleRecorder {
    /// A recorder over `rates`, starting at scale 1 now.
    pub fn new(rates: Arc<RateCoordinator>) -> Self {
        Self {
            inner: RateCoordinatorAdapter::new(rates),
            state: Mutex::new(ScaleState {
                scale: 1.0,
                level: BackpressureLevel::Ok,
                since: Instant::now(),
                spent: BTreeMap::new(),
                adjustments: 0,
            }),
        }
    }

    /// The scale and level in force.
    pub fn current(&self) -> (f64, BackpressureLevel) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (state.scale, state.level)
    }

    /// Seconds spent at each scale (formatted `{:.2}`) so far, and the adjustments applied.
    pub fn spent(&self) -> (BTreeMap<String, f64>, u64) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut spent = state.spent.clone();
        *spent.entry(scale_label(state.scale)).or_default() += state.since.elapsed();
        let spent = spent
            .into_iter()
            .map(|(scale, d)| (scale, d.as_secs_f64()))
            .collect();
        (spent, state.adjustments)
    }
}

/// The label of a scale in the summary.
pub fn scale_label(scale: f64) -> String {
    format!("{scale:.2}")
}

#[async_trait]
impl RateController for ScaleRecorder {
    async fn apply(&self, adjustment: RateAdjustment) -> Result<(), BoxError> {
        let (scale, level) = (adjustment.scale, adjustment.reason);
        self.inner.apply(adjustment).await?;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let held = now - state.since;
        let label = scale_label(state.scale);
        *state.spent.entry(label).or_default() += held;
        state.scale = scale;
        state.level = level;
        state.since = now;
        state.adjustments += 1;
        Ok(())
    }
}

/// The running pipeline side.
#[derive(Debug)]
pub struct PipelineSide {
    /// The provider bars are produced for.
    pub provider: String,
    /// Its rate coordinator.
    pub rates: Arc<RateCoordinator>,
    /// The scale history.
    pub recorder: Arc<ScaleRecorder>,
    /// The feedback handler steering the rate (stores' levels, no-store policy, backlog).
    pub handler: Arc<FeedbackHandler>,
    consumer: JoinHandle<RunnerReport>,
    ticker: JoinHandle<()>,
    shutdown: CancellationToken,
}

impl PipelineSide {
    /// Registers the provider (`rate` overriding its refill rate), puts the no-store level
    /// in force, replays the feedback stream's recent history (so that the level of every
    /// live store is known before a bar is published) and starts following it.
    pub async fn start(
        settings: &PipelineSettings,
        rate: Option<f64>,
        pulse: Pulse,
        metrics: &Metrics,
    ) -> anyhow::Result<Self> {
        let provider = settings.feedback.provider_name.clone();
        let mut config: ProviderConfig = settings.rate.clone();
        if let Some(rate) = rate {
            anyhow::ensure!(
                rate.is_finite() && rate > 0.0,
                "invalid --rate {rate}: expected a number of bars per second > 0"
            );
            config.refill_rate = rate;
        }
        config.capacity = config.capacity.max(settings.source.batch_size);
        let rates = Arc::new(RateCoordinator::with_clock(
            Arc::new(TokioClock::new()),
            metrics.pipeline.clone(),
        ));
        rates
            .register_provider(&provider, config)
            .with_context(|| format!("cannot register provider {provider:?}"))?;
        let recorder = Arc::new(ScaleRecorder::new(Arc::clone(&rates)));
        let handler = Arc::new(
            FeedbackHandler::new(
                &settings.feedback,
                recorder.clone(),
                Arc::new(PulseAdjustmentSink::new(pulse.clone())),
            )
            .with_metrics(metrics.pipeline.clone()),
        );
        handler
            .tick()
            .await
            .context("cannot put the no-store level in force")?;
        let mut consumer = FeedbackConsumer::new(
            pulse,
            Arc::clone(&handler),
            settings.feedback.consumer_name.clone(),
        );
        match consumer.catch_up().await {
            Ok(events) => tracing::info!(
                events,
                stores = handler.coordinators().await.len(),
                "feedback history replayed"
            ),
            Err(error) => {
                tracing::warn!(%error, "cannot read the feedback history yet; retrying");
            }
        }
        let ticker = handler.spawn_ticker();
        let shutdown = CancellationToken::new();
        let consumer = consumer.spawn(shutdown.clone());
        Ok(Self {
            provider,
            rates,
            recorder,
            handler,
            consumer,
            ticker,
            shutdown,
        })
    }

    /// Stops consuming feedback.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.ticker.abort();
        if let Err(error) = self.consumer.await {
            tracing::error!(%error, "feedback consumer task failed");
        }
    }
}
