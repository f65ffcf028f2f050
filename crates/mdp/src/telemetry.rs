//! The metrics of one process: every crate's families in one registry, and the binary's own
//! (`mdp_*`), with their names as constants.

use std::sync::Arc;

use pipeline::PipelineMetrics;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use pulse::PulseMetrics;
use store::telemetry::{CoordinatorMetrics, SinkMetrics};

/// Bar entries the store service acknowledged on the bus once their bars were written or
/// dead-lettered.
pub const STORE_BARS_ACKED_TOTAL: &str = "mdp_store_bars_acked_total";
/// Bus entries the store service acknowledged because their bars were dead-lettered (kept
/// in the dead-letter file for replay); also counted in `mdp_store_bars_acked_total`.
pub const STORE_BARS_DEAD_LETTERED_TOTAL: &str = "mdp_store_bars_dead_lettered_total";
/// Bars the pipeline service published on the bars stream.
pub const PIPELINE_BARS_PUBLISHED_TOTAL: &str = "mdp_pipeline_bars_published_total";
/// Failed publish attempts of the pipeline service (each retried until it succeeds).
pub const PIPELINE_PUBLISH_RETRIES_TOTAL: &str = "mdp_pipeline_publish_retries_total";

/// Every metric family of the process.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Pulse publish/consume metrics.
    pub pulse: PulseMetrics,
    /// Coordinator and worker metrics.
    pub coordinator: CoordinatorMetrics,
    /// Sink write metrics.
    pub sink: SinkMetrics,
    /// Rate, feedback and source metrics.
    pub pipeline: PipelineMetrics,
    /// `mdp_store_bars_acked_total`.
    pub store_acked: Counter,
    /// `mdp_store_bars_dead_lettered_total`.
    pub store_dead_lettered: Counter,
    /// `mdp_pipeline_bars_published_total`.
    pub pipeline_published: Counter,
    /// `mdp_pipeline_publish_retries_total`.
    pub pipeline_publish_retries: Counter,
}

impl Metrics {
    /// A registry holding every family.
    pub fn registry(&self) -> Arc<Registry> {
        let mut registry = Registry::default();
        self.pulse.register(&mut registry);
        self.coordinator.register(&mut registry);
        self.sink.register(&mut registry);
        self.pipeline.register(&mut registry);
        let counters = [
            (
                STORE_BARS_ACKED_TOTAL,
                "Bar entries acknowledged on the bus after their bars were written or dead-lettered",
                &self.store_acked,
            ),
            (
                STORE_BARS_DEAD_LETTERED_TOTAL,
                "Bar entries acknowledged on the bus because their bars were dead-lettered",
                &self.store_dead_lettered,
            ),
            (
                PIPELINE_BARS_PUBLISHED_TOTAL,
                "Bars published on the bars stream",
                &self.pipeline_published,
            ),
            (
                PIPELINE_PUBLISH_RETRIES_TOTAL,
                "Failed bar publish attempts, each retried",
                &self.pipeline_publish_retries,
            ),
        ];
        for (name, help, counter) in counters {
            let name = name.strip_suffix("_total").unwrap_or(name);
            registry.register(name, help, counter.clone());
        }
        Arc::new(registry)
    }
}
