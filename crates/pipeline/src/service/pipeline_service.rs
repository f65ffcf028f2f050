//! [`PipelineService`]: publishes bars on `{ns}.marketdata.bars` at the rate the stores'
//! feedback allows, checkpointing what it published so that a restart resumes after it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use core_contracts::{Bar, HealthComponent, HealthState};
use pulse::stream::{BARS, STORE_GROUP};
use pulse::{CancellationToken, Pulse};
use tokio::task::JoinHandle;
use tokio_util::sync::DropGuard;

use super::ServiceError;
use super::backlog::spawn_backlog_admission;
use super::checkpoint::Checkpoint;
use super::publisher::BarPublisher;
use super::recorder::ScaleRecorder;
use super::side::PipelineSide;
use crate::source::{Pump, PumpStats, SourceError};
use crate::telemetry::PublishMetrics;
use crate::{FeedbackHandler, PipelineMetrics, PipelineSettings};

/// What a [`PipelineService`] is built from; [`PipelineServiceBuilder::start`] starts it.
#[derive(Debug)]
pub struct PipelineServiceBuilder {
    settings: PipelineSettings,
    pulse: Pulse,
    rate: Option<f64>,
    checkpoint: Option<PathBuf>,
    metrics: PipelineMetrics,
    publish_metrics: PublishMetrics,
}

impl PipelineServiceBuilder {
    /// Overrides the provider's refill rate, in bars per second (`MDP_RATE_REFILL_RATE`).
    pub fn rate(mut self, bars_per_second: f64) -> Self {
        self.rate = Some(bars_per_second);
        self
    }

    /// Keeps the count of bars published in `path`; a service started on the same file
    /// skips that many bars of its source (default: none, every start begins at the first
    /// bar).
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// The rate, feedback and source metrics, to register them in the program's registry.
    pub fn metrics(mut self, metrics: PipelineMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The publish counters, to register them in the program's registry.
    pub fn publish_metrics(mut self, metrics: PublishMetrics) -> Self {
        self.publish_metrics = metrics;
        self
    }

    /// Reads the checkpoint, creates the store group on the bars stream (so that nothing is
    /// trimmed before the stores have read it, even when they start later), replays the
    /// feedback history and starts following it and the backlog.
    pub async fn start(self) -> Result<PipelineService, ServiceError> {
        let checkpoint = Checkpoint::new(self.checkpoint);
        let already = checkpoint.load()?;
        let pulse = self.pulse;
        let bars_key = pulse.stream(BARS).key().to_owned();
        if let Err(error) = pulse.backend().ensure_group(&bars_key, STORE_GROUP).await {
            tracing::warn!(%error, stream = bars_key, "cannot create the store group yet");
        }
        let side =
            PipelineSide::start(&self.settings, self.rate, pulse.clone(), &self.metrics).await?;
        // Dropping the service without `stop` cancels it: the publisher stops retrying and
        // the backlog is no longer read.
        let on_drop = CancellationToken::new();
        let stop = on_drop.child_token();
        let publisher = Arc::new(
            BarPublisher::new(
                pulse.clone(),
                checkpoint,
                already,
                self.publish_metrics,
                stop.clone(),
            )
            .admitting(Arc::clone(&side.handler)),
        );
        let backlog = spawn_backlog_admission(pulse, Arc::clone(&side.handler), stop.clone());
        tracing::info!(
            resumed_after = already,
            provider = side.provider,
            "pipeline service started"
        );
        Ok(PipelineService {
            id: self.settings.feedback.consumer_name.clone(),
            batch_size: self.settings.source.batch_size,
            metrics: self.metrics,
            already,
            side,
            publisher,
            backlog,
            stop,
            _on_drop: on_drop.drop_guard(),
        })
    }
}

/// A running pipeline service: [`PipelineService::publish`] sends a source's bars,
/// [`PipelineService::stop`] winds it down.
#[derive(Debug)]
pub struct PipelineService {
    id: String,
    pub(super) side: PipelineSide,
    pub(super) publisher: Arc<BarPublisher>,
    backlog: JoinHandle<()>,
    stop: CancellationToken,
    batch_size: u32,
    metrics: PipelineMetrics,
    already: u64,
    _on_drop: DropGuard,
}

impl PipelineService {
    /// A service of `settings` publishing on `pulse`.
    pub fn builder(settings: PipelineSettings, pulse: Pulse) -> PipelineServiceBuilder {
        PipelineServiceBuilder {
            settings,
            pulse,
            rate: None,
            checkpoint: None,
            metrics: PipelineMetrics::default(),
            publish_metrics: PublishMetrics::default(),
        }
    }

    /// Bars earlier runs published, per the checkpoint: skip that many bars of the source.
    pub fn resume_after(&self) -> u64 {
        self.already
    }

    /// Bars of the source published so far, earlier runs included.
    pub fn published(&self) -> u64 {
        self.publisher.published()
    }

    /// The pipeline's id (`MDP_FB_CONSUMER_NAME`): its name in the orchestrator's topology
    /// and in operators' commands.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The provider the bars are produced for.
    pub fn provider(&self) -> &str {
        &self.side.provider
    }

    /// The scale history and the scale and level in force.
    pub fn recorder(&self) -> Arc<ScaleRecorder> {
        Arc::clone(&self.side.recorder)
    }

    /// The feedback handler (stores known, pressure).
    pub fn handler(&self) -> Arc<FeedbackHandler> {
        Arc::clone(&self.side.handler)
    }

    /// The rate in force: scale and level of the provider.
    pub fn health_components(&self) -> Vec<HealthComponent> {
        rate_component(&self.side.provider, &self.side.recorder)
    }

    /// A function giving [`PipelineService::health_components`], for a health endpoint.
    pub fn health_fn(&self) -> impl Fn() -> Vec<HealthComponent> + Send + Sync + 'static {
        let recorder = Arc::clone(&self.side.recorder);
        let provider = self.side.provider.clone();
        move || rate_component(&provider, &recorder)
    }

    /// Publishes every bar of `bars` (already skipped past [`PipelineService::resume_after`])
    /// at the rate the feedback allows, checkpointing after each batch. A malformed row, or
    /// a stop while the bus is failing, ends it with an error naming how far it got.
    pub async fn publish<I>(&self, bars: I) -> Result<PumpStats, ServiceError>
    where
        I: IntoIterator<Item = Result<Bar, SourceError>>,
    {
        let submitter: Arc<BarPublisher> = Arc::clone(&self.publisher);
        Pump::new(
            Arc::clone(&self.side.rates),
            self.side.provider.clone(),
            submitter,
        )
        .batch_size(self.batch_size)
        .with_metrics(self.metrics.clone())
        .run(bars)
        .await
        .map_err(|source| ServiceError::Publish {
            published: self.publisher.published(),
            source,
        })
    }

    /// Stops publishing and following the feedback, within `grace`; returns the bars of
    /// the source published, earlier runs included.
    pub async fn stop(self, grace: Duration) -> u64 {
        self.stop.cancel();
        self.backlog.abort();
        if tokio::time::timeout(grace, self.side.stop()).await.is_err() {
            tracing::warn!(
                grace_s = grace.as_secs_f64(),
                "pipeline shutdown took longer than the grace period"
            );
        }
        if let Err(error) = self.publisher.save_final().await {
            tracing::error!(%error, "cannot write the last checkpoint");
        }
        self.publisher.published()
    }
}

fn rate_component(provider: &str, recorder: &ScaleRecorder) -> Vec<HealthComponent> {
    let (scale, level) = recorder.current();
    vec![HealthComponent {
        name: format!("rate:{provider}"),
        state: HealthState::Healthy,
        details: BTreeMap::from([
            ("scale".to_owned(), format!("{scale:.2}")),
            ("level".to_owned(), level.as_str().to_owned()),
        ]),
    }]
}
