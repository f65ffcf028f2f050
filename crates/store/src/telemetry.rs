//! Store telemetry: the metrics of SPEC §4, with their names as constants.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Sink writes by sink (`sqlite`, `postgres`, `memory`) and status (`success`, `error`).
pub const SINK_WRITES_TOTAL: &str = "sink_writes_total";
/// Sink write latency in seconds, by sink.
pub const SINK_WRITE_LATENCY_SECONDS: &str = "sink_write_latency_seconds";

/// Histogram buckets of [`SINK_WRITE_LATENCY_SECONDS`].
pub const SINK_LATENCY_BUCKETS_SECONDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Labels `sink`, `status`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkStatusLabels {
    /// Sink name.
    pub sink: &'static str,
    /// `success` or `error`.
    pub status: &'static str,
}

/// Label `sink`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SinkLabels {
    /// Sink name.
    pub sink: &'static str,
}

fn sink_latency_histogram() -> Histogram {
    Histogram::new(SINK_LATENCY_BUCKETS_SECONDS)
}

/// Sink metrics. Clones share the same series; [`SinkMetrics::register`] exposes them.
#[derive(Debug, Clone)]
pub struct SinkMetrics {
    /// [`SINK_WRITES_TOTAL`].
    pub writes: Family<SinkStatusLabels, Counter>,
    /// [`SINK_WRITE_LATENCY_SECONDS`].
    pub write_latency_seconds: Family<SinkLabels, Histogram, fn() -> Histogram>,
}

impl Default for SinkMetrics {
    fn default() -> Self {
        Self {
            writes: Family::default(),
            write_latency_seconds: Family::new_with_constructor(
                sink_latency_histogram as fn() -> Histogram,
            ),
        }
    }
}

impl SinkMetrics {
    /// Registers every sink metric in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            counter_name(SINK_WRITES_TOTAL),
            "Sink writes by status",
            self.writes.clone(),
        );
        registry.register(
            SINK_WRITE_LATENCY_SECONDS,
            "Sink write latency in seconds",
            self.write_latency_seconds.clone(),
        );
    }

    /// Records one write of `sink` that took `seconds` and succeeded or not.
    pub fn record_write(&self, sink: &'static str, ok: bool, seconds: f64) {
        let status = if ok { "success" } else { "error" };
        self.writes
            .get_or_create(&SinkStatusLabels { sink, status })
            .inc();
        self.write_latency_seconds
            .get_or_create(&SinkLabels { sink })
            .observe(seconds);
    }

    /// The count of one `sink_writes_total` series (tests, summaries).
    pub fn write_count(&self, sink: &'static str, status: &'static str) -> u64 {
        self.writes
            .get_or_create(&SinkStatusLabels { sink, status })
            .get()
    }
}

/// The name to register a counter under: prometheus-client appends `_total` itself.
fn counter_name(name: &str) -> &str {
    name.strip_suffix("_total").unwrap_or(name)
}
