//! The metrics of one process: every crate's families in one registry.

use std::sync::Arc;

use pipeline::PipelineMetrics;
use pipeline::telemetry::PublishMetrics;
use prometheus_client::registry::Registry;
use pulse::PulseMetrics;
use store::telemetry::{CoordinatorMetrics, ServiceMetrics, SinkMetrics};

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
    /// The store service's acknowledgements (`mdp_store_bars_*`).
    pub store: ServiceMetrics,
    /// The pipeline service's publishes (`mdp_pipeline_*`).
    pub publish: PublishMetrics,
}

impl Metrics {
    /// A registry holding every family.
    pub fn registry(&self) -> Arc<Registry> {
        let mut registry = Registry::default();
        self.pulse.register(&mut registry);
        self.coordinator.register(&mut registry);
        self.sink.register(&mut registry);
        self.pipeline.register(&mut registry);
        self.store.register(&mut registry);
        self.publish.register(&mut registry);
        Arc::new(registry)
    }
}
