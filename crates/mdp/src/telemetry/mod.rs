//! The metrics of one process: the families of the crates it runs, in one registry per
//! service, plus `process_*` and `mdp_build_info`.
//!
//! A store exports the Pulse, coordinator, sink and store-service families; a pipeline the
//! Pulse, pipeline and publish families; `mdp run`, which is both, every family; the
//! orchestrator the Pulse families.

mod process;

use std::sync::Arc;

use pipeline::PipelineMetrics;
use pipeline::telemetry::PublishMetrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use pulse::PulseMetrics;
use store::telemetry::{CoordinatorMetrics, ServiceMetrics, SinkMetrics};

pub use process::{ProcessCollector, ProcessReading};

/// `mdp_build_info{version,commit}`: always 1, the build in its labels.
pub const BUILD_INFO: &str = "mdp_build_info";

/// The version of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The commit this build was made from (`unknown` outside a git checkout).
pub const COMMIT: &str = crate::cli::COMMIT;

/// Labels of [`BUILD_INFO`].
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
}

/// Which families a registry exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `mdp store`.
    Store,
    /// `mdp pipeline`.
    Pipeline,
    /// `mdp run`: both sides in one process.
    Run,
    /// `mdp orchestrator`: the bus only.
    Orchestrator,
}

/// Every metric family a process may run.
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
    /// A registry holding the families of `role`, the process metrics and the build info.
    pub fn registry(&self, role: Role) -> Arc<Registry> {
        let mut registry = Registry::default();
        self.pulse.register(&mut registry);
        if matches!(role, Role::Store | Role::Run) {
            self.coordinator.register(&mut registry);
            self.sink.register(&mut registry);
        }
        if role == Role::Store {
            self.store.register(&mut registry);
        }
        if matches!(role, Role::Pipeline | Role::Run) {
            self.pipeline.register(&mut registry);
        }
        if role == Role::Pipeline {
            self.publish.register(&mut registry);
        }
        let build: Family<BuildLabels, Gauge> = Family::default();
        build
            .get_or_create(&BuildLabels {
                version: VERSION,
                commit: COMMIT,
            })
            .set(1);
        registry.register(
            BUILD_INFO,
            "The build of this process: version and commit in the labels, always 1",
            build,
        );
        registry.register_collector(Box::new(ProcessCollector));
        Arc::new(registry)
    }
}
