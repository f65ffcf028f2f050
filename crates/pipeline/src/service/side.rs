//! The pipeline side: the rate coordinator of the provider, the feedback handler steering it
//! (through a [`ScaleRecorder`] that remembers how long each scale was in force) and the
//! Pulse feedback consumer feeding the handler.

use std::sync::Arc;

use core_contracts::TokioClock;
use pulse::{CancellationToken, Pulse, RunnerReport};
use tokio::task::JoinHandle;
use tokio_util::sync::DropGuard;
use tokio_util::task::AbortOnDropHandle;

use super::ServiceError;
use super::recorder::ScaleRecorder;
use crate::rate::ProviderConfig;
use crate::{
    FeedbackConsumer, FeedbackHandler, PipelineMetrics, PipelineSettings, PulseAdjustmentSink,
    RateCoordinator,
};

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
    ticker: AbortOnDropHandle<()>,
    shutdown: CancellationToken,
    _on_drop: DropGuard,
}

impl PipelineSide {
    /// Registers the provider (`rate` overriding its refill rate), puts the no-store level
    /// in force, replays the feedback stream's recent history (so that the level of every
    /// live store is known before a bar is published) and starts following it.
    pub async fn start(
        settings: &PipelineSettings,
        rate: Option<f64>,
        pulse: Pulse,
        metrics: &PipelineMetrics,
    ) -> Result<Self, ServiceError> {
        let provider = settings.feedback.provider_name.clone();
        let mut config: ProviderConfig = settings.rate.clone();
        if let Some(rate) = rate {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(ServiceError::InvalidRate(rate));
            }
            config.refill_rate = rate;
        }
        config.capacity = config.capacity.max(settings.source.batch_size);
        metrics.prime(&provider);
        let rates = Arc::new(RateCoordinator::with_clock(
            Arc::new(TokioClock::new()),
            metrics.clone(),
        ));
        rates
            .register_provider(&provider, config)
            .map_err(|source| ServiceError::Provider {
                provider: provider.clone(),
                source,
            })?;
        let recorder = Arc::new(ScaleRecorder::new(Arc::clone(&rates)));
        let handler = Arc::new(
            FeedbackHandler::new(
                &settings.feedback,
                recorder.clone(),
                Arc::new(
                    PulseAdjustmentSink::new(pulse.clone())
                        .with_pipeline(settings.feedback.consumer_name.clone()),
                ),
            )
            .with_metrics(metrics.clone()),
        );
        handler.tick().await.map_err(ServiceError::NoStoreLevel)?;
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
        let ticker = AbortOnDropHandle::new(handler.spawn_ticker());
        // Dropped without `stop`, the side stops consuming and ticking all the same.
        let on_drop = CancellationToken::new();
        let shutdown = on_drop.child_token();
        let consumer = consumer.spawn(shutdown.clone());
        Ok(Self {
            provider,
            rates,
            recorder,
            handler,
            consumer,
            ticker,
            shutdown,
            _on_drop: on_drop.drop_guard(),
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
