//! The store side: a `WriteCoordinator` on the sink, its `FeedbackBus`, the Pulse publisher
//! attached to it, the level heartbeat and the utilization report. Bars reach it by
//! [`WriteCoordinator::submit`] (one process, `mdp run`) or from the bus
//! ([`super::StoreService`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use core_contracts::breaker::BreakerConfig;
use core_contracts::retry::RetryPolicy;
use pulse::{CancellationToken, Pulse};
use tokio::task::JoinHandle;

use crate::bus_feedback::{PulseFeedbackPublisher, spawn_heartbeat, spawn_reports};
use crate::config::StoreSettings;
use crate::coordinator::{
    BatchOutcome, CoordinatorConfig, CoordinatorError, CoordinatorStats, Leftover, WriteCoordinator,
};
use crate::feedback::{AttachedSubscriber, FeedbackBus};
use crate::sink::Sink;
use crate::telemetry::CoordinatorMetrics;
use crate::webhook::WebhookBroadcaster;

/// Longest the stop waits for the webhook to deliver the last events.
const WEBHOOK_LAST_EVENTS: Duration = Duration::from_secs(5);

/// The running store side.
pub struct StoreSide {
    /// The coordinator bars are submitted to.
    pub coordinator: WriteCoordinator,
    /// Its feedback bus.
    pub feedback: FeedbackBus,
    /// The sink it writes to.
    pub sink: Arc<dyn Sink>,
    publisher: AttachedSubscriber,
    /// The feedback webhook (`MDS_FB_ENABLE_HTTP_BROADCAST`), when enabled.
    webhook: Option<AttachedSubscriber>,
    goodbye: Arc<PulseFeedbackPublisher>,
    heartbeat: JoinHandle<()>,
    reports: Option<JoinHandle<()>>,
}

/// Where a coordinator reports the fate of each batch it finishes.
pub(crate) type OnOutcome = Box<dyn Fn(BatchOutcome<'_>) + Send + Sync>;

/// Everything a store side is started from.
pub(crate) struct StoreParts<'a> {
    /// The coordinator's id.
    pub coord_id: &'a str,
    /// The store settings.
    pub settings: &'a StoreSettings,
    /// The coordinator's dead-letter file.
    pub dead_letters: &'a Path,
    /// The sink bars are written to.
    pub sink: Arc<dyn Sink>,
    /// The bus the feedback goes out on.
    pub pulse: Pulse,
    /// The coordinator's metrics.
    pub metrics: CoordinatorMetrics,
    /// Stops the feedback heartbeat and the utilization report.
    pub shutdown: CancellationToken,
    /// Told, per batch, whether it was written or dead-lettered.
    pub on_outcome: Option<OnOutcome>,
}

/// The coordinator settings of the store settings.
pub(crate) fn coordinator_config(
    coord_id: &str,
    settings: &StoreSettings,
    dead_letters: &Path,
) -> CoordinatorConfig {
    let mut config = CoordinatorConfig::new(coord_id, dead_letters);
    let c = &settings.coordinator;
    config.capacity = c.capacity;
    config.workers = c.workers;
    config.batch_size = c.batch_size;
    config.flush_interval = c.flush_interval;
    let r = &settings.retry;
    config.retry = RetryPolicy {
        initial_backoff: r.initial_backoff,
        multiplier: r.multiplier,
        max_backoff: r.max_backoff,
        give_up_after: r.give_up_after,
        ..RetryPolicy::default()
    };
    config.breaker = BreakerConfig {
        failure_threshold: settings.breaker.failure_threshold,
        open_for: settings.breaker.half_open_after,
        probe_timeout: None,
    };
    config
}

impl std::fmt::Debug for StoreSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSide")
            .field("coordinator", &self.coordinator)
            .field("sink", &self.sink.name())
            .finish_non_exhaustive()
    }
}

impl StoreSide {
    /// Starts the coordinator `coord_id` on `sink`, publishing its feedback on `pulse`
    /// until `shutdown` is cancelled.
    pub fn start(
        coord_id: &str,
        settings: &StoreSettings,
        dead_letters: &Path,
        sink: Arc<dyn Sink>,
        pulse: Pulse,
        metrics: CoordinatorMetrics,
        shutdown: CancellationToken,
    ) -> Result<Self, CoordinatorError> {
        Self::start_with(StoreParts {
            coord_id,
            settings,
            dead_letters,
            sink,
            pulse,
            metrics,
            shutdown,
            on_outcome: None,
        })
    }

    /// Starts the store side of `parts`.
    pub(crate) fn start_with(parts: StoreParts<'_>) -> Result<Self, CoordinatorError> {
        let StoreParts {
            coord_id,
            settings,
            dead_letters,
            sink,
            pulse,
            metrics,
            shutdown,
            on_outcome,
        } = parts;
        let feedback = FeedbackBus::new();
        let config = coordinator_config(coord_id, settings, dead_letters);
        let mut builder = WriteCoordinator::builder(config, Arc::clone(&sink))
            .bus(feedback.clone())
            .metrics(metrics);
        if let Some(on_outcome) = on_outcome {
            builder = builder.on_outcome(on_outcome);
        }
        let coordinator = builder.start()?;
        let webhook = match &settings.feedback.webhook {
            Some(hook) => {
                let broadcaster = WebhookBroadcaster::new(hook.clone())
                    .map_err(|e| CoordinatorError::InvalidConfig(e.to_string()))?;
                tracing::info!(
                    endpoint = %crate::config::redact_url(&hook.endpoint),
                    "feedback webhook attached"
                );
                Some(feedback.attach("webhook", Arc::new(broadcaster)))
            }
            None => None,
        };
        let publisher = Arc::new(PulseFeedbackPublisher::new(pulse));
        let attached = feedback.attach("pulse", publisher.clone());
        let heartbeat = spawn_heartbeat(
            feedback.clone(),
            Arc::clone(&publisher),
            settings.feedback.heartbeat,
            shutdown.clone(),
        );
        let reports = settings
            .feedback
            .report
            .map(|every| spawn_reports(feedback.clone(), Arc::clone(&publisher), every, shutdown));
        Ok(Self {
            coordinator,
            feedback,
            sink,
            publisher: attached,
            webhook,
            goodbye: Arc::clone(&publisher),
            heartbeat,
            reports,
        })
    }

    /// Stops the coordinator, writing every accepted bar for at most `grace`; what is still
    /// unwritten then is dead-lettered or abandoned as `leftover` says. Then lets the last
    /// feedback events go out, says goodbye (pipelines drop this store at once) and closes
    /// the sink.
    pub async fn stop_within(self, grace: Duration, leftover: Leftover) -> CoordinatorStats {
        let stats = self.coordinator.stop_within(grace, leftover).await;
        self.heartbeat.abort();
        if let Some(reports) = &self.reports {
            reports.abort();
        }
        self.feedback.close();
        self.publisher.join().await;
        if let Some(webhook) = self.webhook
            && tokio::time::timeout(WEBHOOK_LAST_EVENTS, webhook.join())
                .await
                .is_err()
        {
            tracing::warn!("the feedback webhook did not take the last events in time");
        }
        let last = self.coordinator.current_event();
        if let Err(error) = self.goodbye.publish_goodbye(last).await {
            tracing::warn!(%error, "cannot say goodbye: pipelines will notice the silence");
        }
        if let Err(error) = self.sink.close().await {
            tracing::warn!(%error, "closing the sink failed");
        }
        stats
    }
}
