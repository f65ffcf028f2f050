//! Pipeline telemetry: the metrics of SPEC §5, with their names as constants.
//!
//! One [`PipelineMetrics`] is shared (by clone) by the rate coordinator, the feedback handler
//! and the sources; [`PipelineMetrics::register`] exposes it in a registry.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use core_contracts::{BackpressureLevel, BoxError, RateAdjustment};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use pulse::RunnerReport;

/// Budget scale in force, by provider (0 paused .. 1 full rate).
pub const RATE_SCALE_FACTOR: &str = "pipeline_rate_scale_factor";
/// Backpressure level in force, by provider: 0 ok, 1 soft, 2 hard.
pub const BACKPRESSURE_STATE: &str = "pipeline_backpressure_state";
/// Queue depth last reported by the stores, summed over the coordinators still known, by
/// source.
pub const FEEDBACK_QUEUE_DEPTH: &str = "pipeline_feedback_queue_depth";
/// Feedback events accepted by the handler, by provider and reported level.
pub const FEEDBACK_EVENTS_PROCESSED_TOTAL: &str = "feedback_events_processed_total";
/// Feedback events the handler did not use, by provider and reason (`out_of_order`,
/// `stale`, `disabled`).
pub const FEEDBACK_EVENTS_IGNORED_TOTAL: &str = "pipeline_feedback_events_ignored_total";
/// Rate adjustments applied, by provider and reason (the level that caused them).
pub const RATE_ADJUSTMENTS_TOTAL: &str = "pipeline_rate_adjustments_total";
/// Applied rate adjustments that could not be published, by provider.
pub const ADJUSTMENT_PUBLISH_ERRORS_TOTAL: &str = "pipeline_adjustment_publish_errors_total";
/// Store coordinators forgotten after a silence of `MDP_FB_FORGET_AFTER_SEC`, by provider.
pub const COORDINATORS_FORGOTTEN_TOTAL: &str = "pipeline_feedback_coordinators_forgotten_total";
/// Store coordinators known to the handler, by provider and liveness (`fresh`, `silent`).
pub const FEEDBACK_COORDINATORS: &str = "pipeline_feedback_coordinators";
/// Tokens granted by the rate coordinator, by provider.
pub const RATE_TOKENS_GRANTED_TOTAL: &str = "pipeline_rate_tokens_granted_total";
/// Bars handed to the submitter by a source, by provider.
pub const SOURCE_BARS_SUBMITTED_TOTAL: &str = "pipeline_source_bars_submitted_total";

/// Store coordinators dropped at once because they said goodbye.
pub const COORDINATORS_LEFT_TOTAL: &str = "pipeline_feedback_coordinators_left_total";
/// Backlog of the bars stream for the store group, as the pipeline last saw it.
pub const BARS_BACKLOG: &str = "pipeline_bars_backlog";
/// 1 while no live store is known and `MDP_FB_WHEN_NO_STORE` holds.
pub const NO_STORE: &str = "pipeline_feedback_no_store";

/// Label `provider`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    /// Data provider.
    pub provider: String,
}

/// Label `source`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    /// Component that emitted the feedback, e.g. `store`.
    pub source: String,
}

/// Labels `provider`, `level`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LevelLabels {
    /// Data provider.
    pub provider: String,
    /// Backpressure level, `ok`, `soft` or `hard`.
    pub level: &'static str,
}

/// Labels `provider`, `reason`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// Data provider.
    pub provider: String,
    /// Why: a level for adjustments, a cause for ignored events.
    pub reason: &'static str,
}

/// Labels `provider`, `liveness`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LivenessLabels {
    /// Data provider.
    pub provider: String,
    /// `fresh` (heard within the staleness window) or `silent`.
    pub liveness: &'static str,
}

/// Every pipeline metric. Clones share the same series.
#[derive(Debug, Clone, Default)]
pub struct PipelineMetrics {
    /// [`RATE_SCALE_FACTOR`].
    pub rate_scale_factor: Family<ProviderLabels, Gauge<f64, AtomicU64>>,
    /// [`BACKPRESSURE_STATE`].
    pub backpressure_state: Family<ProviderLabels, Gauge>,
    /// [`FEEDBACK_QUEUE_DEPTH`].
    pub feedback_queue_depth: Family<SourceLabels, Gauge>,
    /// [`FEEDBACK_EVENTS_PROCESSED_TOTAL`].
    pub feedback_events_processed: Family<LevelLabels, Counter>,
    /// [`FEEDBACK_EVENTS_IGNORED_TOTAL`].
    pub feedback_events_ignored: Family<ReasonLabels, Counter>,
    /// [`RATE_ADJUSTMENTS_TOTAL`].
    pub rate_adjustments: Family<ReasonLabels, Counter>,
    /// [`ADJUSTMENT_PUBLISH_ERRORS_TOTAL`].
    pub adjustment_publish_errors: Family<ProviderLabels, Counter>,
    /// [`COORDINATORS_FORGOTTEN_TOTAL`].
    pub coordinators_forgotten: Family<ProviderLabels, Counter>,
    /// [`FEEDBACK_COORDINATORS`].
    pub feedback_coordinators: Family<LivenessLabels, Gauge>,
    /// [`COORDINATORS_LEFT_TOTAL`].
    pub coordinators_left: Family<ProviderLabels, Counter>,
    /// [`BARS_BACKLOG`].
    pub bars_backlog: Family<ProviderLabels, Gauge>,
    /// [`NO_STORE`].
    pub no_store: Family<ProviderLabels, Gauge>,
    /// [`RATE_TOKENS_GRANTED_TOTAL`].
    pub rate_tokens_granted: Family<ProviderLabels, Counter>,
    /// [`SOURCE_BARS_SUBMITTED_TOTAL`].
    pub source_bars_submitted: Family<ProviderLabels, Counter>,
}

/// The name to register a counter under: prometheus-client appends `_total` itself.
fn counter_name(name: &str) -> &str {
    name.strip_suffix("_total").unwrap_or(name)
}

fn provider(name: &str) -> ProviderLabels {
    ProviderLabels {
        provider: name.to_owned(),
    }
}

impl PipelineMetrics {
    /// Creates every series of `provider` at 0 (the rate scale at 1), so that each family is
    /// exported from the start.
    pub fn prime(&self, provider_name: &str) {
        let labels = provider(provider_name);
        self.rate_scale_factor.get_or_create(&labels).set(1.0);
        let _ = self.backpressure_state.get_or_create(&labels);
        let _ = self.feedback_queue_depth.get_or_create(&SourceLabels {
            source: "store".to_owned(),
        });
        for level in BackpressureLevel::ALL {
            let _ = self.feedback_events_processed.get_or_create(&LevelLabels {
                provider: provider_name.to_owned(),
                level: level.as_str(),
            });
            let _ = self.rate_adjustments.get_or_create(&ReasonLabels {
                provider: provider_name.to_owned(),
                reason: level.as_str(),
            });
        }
        for reason in ["out_of_order", "stale", "disabled"] {
            let _ = self.feedback_events_ignored.get_or_create(&ReasonLabels {
                provider: provider_name.to_owned(),
                reason,
            });
        }
        for liveness in ["fresh", "silent"] {
            let _ = self.feedback_coordinators.get_or_create(&LivenessLabels {
                provider: provider_name.to_owned(),
                liveness,
            });
        }
        let _ = self.adjustment_publish_errors.get_or_create(&labels);
        let _ = self.coordinators_forgotten.get_or_create(&labels);
        let _ = self.coordinators_left.get_or_create(&labels);
        let _ = self.bars_backlog.get_or_create(&labels);
        let _ = self.no_store.get_or_create(&labels);
        let _ = self.rate_tokens_granted.get_or_create(&labels);
        let _ = self.source_bars_submitted.get_or_create(&labels);
    }

    /// Registers every metric in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            RATE_SCALE_FACTOR,
            "Budget scale in force (0 paused, 1 full rate)",
            self.rate_scale_factor.clone(),
        );
        registry.register(
            BACKPRESSURE_STATE,
            "Backpressure level in force (0 ok, 1 soft, 2 hard)",
            self.backpressure_state.clone(),
        );
        registry.register(
            FEEDBACK_QUEUE_DEPTH,
            "Queue depth reported by the stores still known",
            self.feedback_queue_depth.clone(),
        );
        registry.register(
            counter_name(FEEDBACK_EVENTS_PROCESSED_TOTAL),
            "Feedback events accepted by level",
            self.feedback_events_processed.clone(),
        );
        registry.register(
            counter_name(FEEDBACK_EVENTS_IGNORED_TOTAL),
            "Feedback events not used, by reason",
            self.feedback_events_ignored.clone(),
        );
        registry.register(
            counter_name(RATE_ADJUSTMENTS_TOTAL),
            "Rate adjustments applied, by causing level",
            self.rate_adjustments.clone(),
        );
        registry.register(
            counter_name(ADJUSTMENT_PUBLISH_ERRORS_TOTAL),
            "Applied rate adjustments that could not be published",
            self.adjustment_publish_errors.clone(),
        );
        registry.register(
            counter_name(COORDINATORS_FORGOTTEN_TOTAL),
            "Store coordinators forgotten after a long silence",
            self.coordinators_forgotten.clone(),
        );
        registry.register(
            FEEDBACK_COORDINATORS,
            "Store coordinators known, by liveness",
            self.feedback_coordinators.clone(),
        );
        registry.register(
            counter_name(COORDINATORS_LEFT_TOTAL),
            "Store coordinators dropped at once because they stopped gracefully",
            self.coordinators_left.clone(),
        );
        registry.register(
            BARS_BACKLOG,
            "Backlog of the bars stream for the store group (undelivered plus pending)",
            self.bars_backlog.clone(),
        );
        registry.register(
            NO_STORE,
            "1 while no live store is known and MDP_FB_WHEN_NO_STORE holds",
            self.no_store.clone(),
        );
        registry.register(
            counter_name(RATE_TOKENS_GRANTED_TOTAL),
            "Tokens granted by the rate coordinator",
            self.rate_tokens_granted.clone(),
        );
        registry.register(
            counter_name(SOURCE_BARS_SUBMITTED_TOTAL),
            "Bars handed to the submitter by a source",
            self.source_bars_submitted.clone(),
        );
    }

    /// The handles a rate coordinator keeps for one provider.
    pub(crate) fn provider_handles(&self, name: &str) -> ProviderHandles {
        ProviderHandles {
            scale: self
                .rate_scale_factor
                .get_or_create(&provider(name))
                .clone(),
            pressure: self
                .backpressure_state
                .get_or_create(&provider(name))
                .clone(),
            granted: self
                .rate_tokens_granted
                .get_or_create(&provider(name))
                .clone(),
        }
    }

    pub(crate) fn event_processed(&self, provider: &str, level: BackpressureLevel) {
        self.feedback_events_processed
            .get_or_create(&LevelLabels {
                provider: provider.to_owned(),
                level: level.as_str(),
            })
            .inc();
    }

    pub(crate) fn event_ignored(&self, provider: &str, coordinator_id: &str, reason: &'static str) {
        if reason == "stale" {
            tracing::warn!(
                provider,
                coordinator_id,
                "feedback event older than the staleness window ignored (replayed history or clock skew)"
            );
        } else {
            tracing::debug!(provider, coordinator_id, reason, "feedback event ignored");
        }
        self.feedback_events_ignored
            .get_or_create(&ReasonLabels {
                provider: provider.to_owned(),
                reason,
            })
            .inc();
    }

    pub(crate) fn adjustment_applied(
        &self,
        adjustment: &RateAdjustment,
        cause: &'static str,
        backlog: u64,
    ) {
        tracing::debug!(
            provider = adjustment.provider,
            scale = adjustment.scale,
            level = adjustment.reason.as_str(),
            cause,
            coordinator_id = adjustment.coordinator_id.as_deref().unwrap_or("-"),
            backlog,
            "rate adjustment applied"
        );
        let labels = provider(&adjustment.provider);
        self.rate_scale_factor
            .get_or_create(&labels)
            .set(adjustment.scale);
        self.backpressure_state
            .get_or_create(&labels)
            .set(adjustment.reason.as_gauge());
        self.rate_adjustments
            .get_or_create(&ReasonLabels {
                provider: adjustment.provider.clone(),
                reason: adjustment.reason.as_str(),
            })
            .inc();
    }

    pub(crate) fn adjustment_publish_failed(&self, name: &str, error: &BoxError) {
        tracing::warn!(provider = name, %error, "applied rate adjustment not published");
        self.adjustment_publish_errors
            .get_or_create(&provider(name))
            .inc();
    }

    pub(crate) fn coordinator_forgotten(
        &self,
        name: &str,
        coordinator_id: &str,
        silence: Duration,
    ) {
        tracing::warn!(
            provider = name,
            coordinator_id,
            silent_for_s = silence.as_secs_f64(),
            "store coordinator forgotten after a long silence; it no longer slows this provider"
        );
        self.coordinators_forgotten
            .get_or_create(&provider(name))
            .inc();
    }

    pub(crate) fn coordinator_left(&self, name: &str, coordinator_id: &str) {
        tracing::info!(
            provider = name,
            coordinator_id,
            "store coordinator stopped gracefully; it no longer counts"
        );
        self.coordinators_left.get_or_create(&provider(name)).inc();
    }

    pub(crate) fn backlog(&self, name: &str, backlog: u64) {
        self.bars_backlog
            .get_or_create(&provider(name))
            .set(i64::try_from(backlog).unwrap_or(i64::MAX));
    }

    /// `starting`: nothing was applied yet, so holding is the expected wait for the first
    /// heartbeat rather than the loss of every store.
    pub(crate) fn no_store(&self, name: &str, holding: bool, starting: bool) {
        let gauge = self.no_store.get_or_create(&provider(name));
        let was = gauge.set(i64::from(holding));
        if holding && was == 0 && starting {
            tracing::info!(
                provider = name,
                "no live store known yet: holding to the MDP_FB_WHEN_NO_STORE level until one is heard"
            );
        } else if holding && was == 0 {
            tracing::warn!(
                provider = name,
                "no live store known: holding to the MDP_FB_WHEN_NO_STORE level until one is heard"
            );
        } else if !holding && was == 1 {
            tracing::info!(provider = name, "a live store is known again");
        }
    }

    pub(crate) fn tick_failed(&self, name: &str, error: &dyn std::error::Error) {
        tracing::warn!(provider = name, %error, "feedback tick failed; retrying on the next tick");
    }

    pub(crate) fn coordinators_known(&self, provider: &str, fresh: usize, silent: usize) {
        for (liveness, count) in [("fresh", fresh), ("silent", silent)] {
            self.feedback_coordinators
                .get_or_create(&LivenessLabels {
                    provider: provider.to_owned(),
                    liveness,
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }

    pub(crate) fn queue_depth(&self, source: &str, depth: u64) {
        self.feedback_queue_depth
            .get_or_create(&SourceLabels {
                source: source.to_owned(),
            })
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    pub(crate) fn bars_submitted(&self, name: &str, count: usize) {
        self.source_bars_submitted
            .get_or_create(&provider(name))
            .inc_by(u64::try_from(count).unwrap_or(u64::MAX));
    }
}

/// Logs the start of the Pulse feedback consumer.
pub(crate) fn feedback_consumer_started(stream: &str, consumer: &str) {
    tracing::info!(stream, consumer, "feedback consumer started");
}

/// Logs what the Pulse feedback consumer did before it stopped (its consume metrics are
/// Pulse's `pulse_consume_total` and `pulse_lag_ms`).
pub(crate) fn feedback_consumer_stopped(stream: &str, consumer: &str, report: &RunnerReport) {
    tracing::info!(
        stream,
        consumer,
        handled = report.handled,
        failed = report.failed,
        restarts = report.restarts,
        "feedback consumer stopped"
    );
}

/// One provider's metric handles, kept by the rate coordinator to stay off the family lock.
#[derive(Debug, Clone)]
pub(crate) struct ProviderHandles {
    pub(crate) scale: Gauge<f64, AtomicU64>,
    pub(crate) pressure: Gauge,
    pub(crate) granted: Counter,
}

impl ProviderHandles {
    pub(crate) fn scale_set(&self, scale: f64) {
        self.scale.set(scale);
    }

    pub(crate) fn pressure_set(&self, level: BackpressureLevel) {
        self.pressure.set(level.as_gauge());
    }

    pub(crate) fn granted(&self, n: u32) {
        self.granted.inc_by(u64::from(n));
    }
}

/// Bars the pipeline service ([`crate::service`]) published on the bars stream.
pub const PIPELINE_BARS_PUBLISHED_TOTAL: &str = "mdp_pipeline_bars_published_total";
/// Failed publish attempts of the pipeline service (each retried until it succeeds).
pub const PIPELINE_PUBLISH_RETRIES_TOTAL: &str = "mdp_pipeline_publish_retries_total";

/// The pipeline service's publish counters. Clones share the same series.
#[derive(Debug, Clone, Default)]
pub struct PublishMetrics {
    /// [`PIPELINE_BARS_PUBLISHED_TOTAL`].
    pub published: Counter,
    /// [`PIPELINE_PUBLISH_RETRIES_TOTAL`].
    pub retries: Counter,
}

impl PublishMetrics {
    /// Registers both counters in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            counter_name(PIPELINE_BARS_PUBLISHED_TOTAL),
            "Bars published on the bars stream",
            self.published.clone(),
        );
        registry.register(
            counter_name(PIPELINE_PUBLISH_RETRIES_TOTAL),
            "Failed bar publish attempts, each retried",
            self.retries.clone(),
        );
    }
}
