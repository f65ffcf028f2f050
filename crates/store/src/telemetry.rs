//! Store telemetry: the metrics of SPEC §4, with their names as constants.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
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

    /// Creates the series of `sink` at 0, so that every family is exported from the start.
    pub fn prime(&self, sink: &'static str) {
        for status in ["success", "error"] {
            let _ = self
                .writes
                .get_or_create(&SinkStatusLabels { sink, status });
        }
        let _ = self
            .write_latency_seconds
            .get_or_create(&SinkLabels { sink });
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

// ---------------------------------------------------------------------------------------------
// Coordinator, worker and feedback metrics.

/// Bars accepted by a coordinator, by `coord_id`.
pub const COORD_ITEMS_SUBMITTED_TOTAL: &str = "mds_coord_items_submitted_total";
/// Bars a coordinator did not write to the sink, by `coord_id` and `reason`
/// (`drop_oldest`, `dead_letter`).
pub const COORD_ITEMS_DROPPED_TOTAL: &str = "mds_coord_items_dropped_total";
/// Bars waiting in a coordinator's queue, by `coord_id`.
pub const COORD_QUEUE_DEPTH: &str = "mds_coord_queue_depth";
/// Workers running, by `coord_id`.
pub const COORD_WORKERS_ALIVE: &str = "mds_coord_workers_alive";
/// Circuit breaker state by `coord_id`: 0 closed, 1 open, 2 half-open.
pub const COORD_CIRCUIT_STATE: &str = "mds_coord_circuit_state";
/// Batches written to the sink, by `coord_id` and `worker_id`.
pub const WORKER_BATCHES_WRITTEN_TOTAL: &str = "mds_worker_batches_written_total";
/// Failed sink writes, by `coord_id`, `worker_id` and `error_type` (`transient`, `permanent`).
pub const WORKER_WRITE_ERRORS_TOTAL: &str = "mds_worker_write_errors_total";
/// Sink write latency in seconds as seen by a worker, by `coord_id` and `worker_id`.
pub const WORKER_WRITE_LATENCY_SECONDS: &str = "mds_worker_write_latency_seconds";
/// Worker restarts after a panic or a fatal error, by `coord_id`, `worker_id` and `cause`
/// (`panic`, `fatal`).
pub const WORKER_RESTARTS_TOTAL: &str = "mds_worker_restarts_total";
/// Feedback events emitted, by `coord_id` and `level`.
pub const FEEDBACK_EVENTS_TOTAL: &str = "mds_feedback_events_total";
/// The level a coordinator last announced, by `coord_id`: 0 ok, 1 soft, 2 hard.
pub const COORD_BACKPRESSURE_LEVEL: &str = "mds_coord_backpressure_level";

/// Histogram buckets of [`WORKER_WRITE_LATENCY_SECONDS`].
pub const WORKER_LATENCY_BUCKETS_SECONDS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Label `coord_id`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CoordLabels {
    /// Coordinator id.
    pub coord_id: String,
}

/// Labels `coord_id`, `reason`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    /// Coordinator id.
    pub coord_id: String,
    /// Why the bars were not written.
    pub reason: &'static str,
}

/// Labels `coord_id`, `worker_id`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerLabels {
    /// Coordinator id.
    pub coord_id: String,
    /// Worker index within the coordinator.
    pub worker_id: String,
}

/// Labels `coord_id`, `worker_id`, `error_type`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerErrorLabels {
    /// Coordinator id.
    pub coord_id: String,
    /// Worker index within the coordinator.
    pub worker_id: String,
    /// `transient` or `permanent`.
    pub error_type: &'static str,
}

/// Labels `coord_id`, `worker_id`, `cause`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RestartLabels {
    /// Coordinator id.
    pub coord_id: String,
    /// Worker index within the coordinator.
    pub worker_id: String,
    /// `panic` or `fatal`.
    pub cause: &'static str,
}

/// Labels `coord_id`, `level`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LevelLabels {
    /// Coordinator id.
    pub coord_id: String,
    /// `ok`, `soft` or `hard`.
    pub level: &'static str,
}

fn worker_latency_histogram() -> Histogram {
    Histogram::new(WORKER_LATENCY_BUCKETS_SECONDS)
}

/// Coordinator, worker and feedback metrics. Clones share the same series;
/// [`CoordinatorMetrics::register`] exposes them. Several coordinators may share one set.
#[derive(Debug, Clone)]
pub struct CoordinatorMetrics {
    /// [`COORD_ITEMS_SUBMITTED_TOTAL`].
    pub items_submitted: Family<CoordLabels, Counter>,
    /// [`COORD_ITEMS_DROPPED_TOTAL`].
    pub items_dropped: Family<DropLabels, Counter>,
    /// [`COORD_QUEUE_DEPTH`].
    pub queue_depth: Family<CoordLabels, Gauge>,
    /// [`COORD_WORKERS_ALIVE`].
    pub workers_alive: Family<CoordLabels, Gauge>,
    /// [`COORD_CIRCUIT_STATE`].
    pub circuit_state: Family<CoordLabels, Gauge>,
    /// [`WORKER_BATCHES_WRITTEN_TOTAL`].
    pub batches_written: Family<WorkerLabels, Counter>,
    /// [`WORKER_WRITE_ERRORS_TOTAL`].
    pub write_errors: Family<WorkerErrorLabels, Counter>,
    /// [`WORKER_WRITE_LATENCY_SECONDS`].
    pub write_latency_seconds: Family<WorkerLabels, Histogram, fn() -> Histogram>,
    /// [`WORKER_RESTARTS_TOTAL`].
    pub worker_restarts: Family<RestartLabels, Counter>,
    /// [`FEEDBACK_EVENTS_TOTAL`].
    pub feedback_events: Family<LevelLabels, Counter>,
    /// [`COORD_BACKPRESSURE_LEVEL`].
    pub backpressure_level: Family<CoordLabels, Gauge>,
}

impl Default for CoordinatorMetrics {
    fn default() -> Self {
        Self {
            items_submitted: Family::default(),
            items_dropped: Family::default(),
            queue_depth: Family::default(),
            workers_alive: Family::default(),
            circuit_state: Family::default(),
            batches_written: Family::default(),
            write_errors: Family::default(),
            write_latency_seconds: Family::new_with_constructor(
                worker_latency_histogram as fn() -> Histogram,
            ),
            worker_restarts: Family::default(),
            feedback_events: Family::default(),
            backpressure_level: Family::default(),
        }
    }
}

impl CoordinatorMetrics {
    /// Registers every coordinator, worker and feedback metric in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            counter_name(COORD_ITEMS_SUBMITTED_TOTAL),
            "Bars accepted by a coordinator",
            self.items_submitted.clone(),
        );
        registry.register(
            counter_name(COORD_ITEMS_DROPPED_TOTAL),
            "Bars not written to the sink, by reason",
            self.items_dropped.clone(),
        );
        registry.register(
            COORD_QUEUE_DEPTH,
            "Bars waiting in the coordinator queue",
            self.queue_depth.clone(),
        );
        registry.register(
            COORD_WORKERS_ALIVE,
            "Workers running",
            self.workers_alive.clone(),
        );
        registry.register(
            COORD_CIRCUIT_STATE,
            "Circuit breaker state: 0 closed, 1 open, 2 half_open",
            self.circuit_state.clone(),
        );
        registry.register(
            counter_name(WORKER_BATCHES_WRITTEN_TOTAL),
            "Batches written to the sink",
            self.batches_written.clone(),
        );
        registry.register(
            counter_name(WORKER_WRITE_ERRORS_TOTAL),
            "Failed sink writes by error type",
            self.write_errors.clone(),
        );
        registry.register(
            WORKER_WRITE_LATENCY_SECONDS,
            "Sink write latency in seconds, per worker",
            self.write_latency_seconds.clone(),
        );
        registry.register(
            counter_name(WORKER_RESTARTS_TOTAL),
            "Worker restarts after a panic or fatal error",
            self.worker_restarts.clone(),
        );
        registry.register(
            counter_name(FEEDBACK_EVENTS_TOTAL),
            "Feedback events emitted, by level",
            self.feedback_events.clone(),
        );
        registry.register(
            COORD_BACKPRESSURE_LEVEL,
            "Level the coordinator last announced: 0 ok, 1 soft, 2 hard",
            self.backpressure_level.clone(),
        );
    }

    /// Creates every series of coordinator `coord_id` with `workers` workers at 0, so that
    /// each family is exported from the start (a rate over a series that appears late loses
    /// its first increase).
    pub fn prime(&self, coord_id: &str, workers: usize) {
        let coord = CoordLabels {
            coord_id: coord_id.to_owned(),
        };
        let _ = self.items_submitted.get_or_create(&coord);
        for reason in ["drop_oldest", "dead_letter"] {
            let _ = self.items_dropped.get_or_create(&DropLabels {
                coord_id: coord_id.to_owned(),
                reason,
            });
        }
        let _ = self.queue_depth.get_or_create(&coord);
        let _ = self.workers_alive.get_or_create(&coord);
        let _ = self.circuit_state.get_or_create(&coord);
        let _ = self.backpressure_level.get_or_create(&coord);
        for level in ["ok", "soft", "hard"] {
            let _ = self.feedback_events.get_or_create(&LevelLabels {
                coord_id: coord_id.to_owned(),
                level,
            });
        }
        for worker in 0..workers {
            let labels = WorkerLabels {
                coord_id: coord_id.to_owned(),
                worker_id: worker.to_string(),
            };
            let _ = self.batches_written.get_or_create(&labels);
            let _ = self.write_latency_seconds.get_or_create(&labels);
            for error_type in ["transient", "permanent"] {
                let _ = self.write_errors.get_or_create(&WorkerErrorLabels {
                    coord_id: coord_id.to_owned(),
                    worker_id: labels.worker_id.clone(),
                    error_type,
                });
            }
            for cause in ["panic", "fatal"] {
                let _ = self.worker_restarts.get_or_create(&RestartLabels {
                    coord_id: coord_id.to_owned(),
                    worker_id: labels.worker_id.clone(),
                    cause,
                });
            }
        }
    }
}

/// Bar entries a bus-fed store ([`crate::service`]) acknowledged on the bus once their bars
/// were written or dead-lettered.
pub const STORE_BARS_ACKED_TOTAL: &str = "mdp_store_bars_acked_total";
/// Bus entries a bus-fed store acknowledged because their bars were dead-lettered (kept in
/// the dead-letter file for replay); also counted in `mdp_store_bars_acked_total`.
pub const STORE_BARS_DEAD_LETTERED_TOTAL: &str = "mdp_store_bars_dead_lettered_total";

/// The bus-fed store's acknowledgement counters. Clones share the same series;
/// [`ServiceMetrics::register`] exposes them.
#[derive(Debug, Clone, Default)]
pub struct ServiceMetrics {
    /// [`STORE_BARS_ACKED_TOTAL`].
    pub acked: Counter,
    /// [`STORE_BARS_DEAD_LETTERED_TOTAL`].
    pub dead_lettered: Counter,
}

impl ServiceMetrics {
    /// Registers both counters in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            counter_name(STORE_BARS_ACKED_TOTAL),
            "Bar entries acknowledged on the bus after their bars were written or dead-lettered",
            self.acked.clone(),
        );
        registry.register(
            counter_name(STORE_BARS_DEAD_LETTERED_TOTAL),
            "Bar entries acknowledged on the bus because their bars were dead-lettered",
            self.dead_lettered.clone(),
        );
    }
}
