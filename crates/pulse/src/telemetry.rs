//! Pulse telemetry: the metrics of SPEC §3, with their names as constants.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, PoisonError, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::codec::Decoded;
use crate::compat::CompatRule;

/// Publishes by stream, track and outcome (`success`, `error`).
pub const PUBLISH_TOTAL: &str = "pulse_publish_total";
/// Publish latency in milliseconds by stream and track.
pub const PUBLISH_LATENCY_MS: &str = "pulse_publish_latency_ms";
/// Consumed entries by stream, track and outcome (`success`, `error`, `duplicate`, `dlq`).
pub const CONSUME_TOTAL: &str = "pulse_consume_total";
/// Milliseconds between an event's `ts` and its consumption, by stream.
pub const LAG_MS: &str = "pulse_lag_ms";
/// Entries delivered again (reclaimed or pending after a restart), by stream.
pub const REDELIVERIES_TOTAL: &str = "pulse_redeliveries_total";
/// Entries moved to a dead-letter stream, by stream.
pub const DLQ_TOTAL: &str = "pulse_dlq_total";
/// Entries whose payload did not match `meta.hash`, by stream.
pub const HASH_MISMATCH_TOTAL: &str = "pulse_hash_mismatch_total";
/// Entries read under a compatibility rule (`PULSE_COMPAT`), by stream and rule
/// (`schema_alias`, `unwrapped_envelope`).
pub const COMPAT_TOTAL: &str = "pulse_compat_total";
/// Entries a group has not acknowledged (undelivered plus pending), by stream and group, as
/// of the last `Pulse::backlog`.
pub const BACKLOG: &str = "pulse_backlog";

/// Histogram buckets of [`PUBLISH_LATENCY_MS`].
pub const LATENCY_BUCKETS_MS: [f64; 12] = [
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0,
];

/// Labels `stream`, `track`, `outcome`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// Un-namespaced stream name.
    pub stream: String,
    /// Schema track.
    pub track: String,
    /// What happened.
    pub outcome: &'static str,
}

/// Labels `stream`, `track`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamTrackLabels {
    /// Un-namespaced stream name.
    pub stream: String,
    /// Schema track.
    pub track: String,
}

/// Labels `stream`, `group`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamGroupLabels {
    /// Un-namespaced stream name.
    pub stream: String,
    /// Consumer group.
    pub group: String,
}

/// Labels `stream`, `rule`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamRuleLabels {
    /// Un-namespaced stream name.
    pub stream: String,
    /// The compatibility rule ([`CompatRule::as_str`]).
    pub rule: &'static str,
}

/// Label `stream`.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamLabels {
    /// Un-namespaced stream name.
    pub stream: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS_MS)
}

/// Every Pulse metric. Clones share the same series; [`PulseMetrics::register`] exposes them.
#[derive(Debug, Clone)]
pub struct PulseMetrics {
    /// [`PUBLISH_TOTAL`].
    pub publish: Family<OutcomeLabels, Counter>,
    /// [`PUBLISH_LATENCY_MS`].
    pub publish_latency_ms: Family<StreamTrackLabels, Histogram, fn() -> Histogram>,
    /// [`CONSUME_TOTAL`].
    pub consume: Family<OutcomeLabels, Counter>,
    /// [`LAG_MS`].
    pub lag_ms: Family<StreamLabels, Gauge<f64, AtomicU64>>,
    /// [`REDELIVERIES_TOTAL`].
    pub redeliveries: Family<StreamLabels, Counter>,
    /// [`DLQ_TOTAL`].
    pub dlq: Family<StreamLabels, Counter>,
    /// [`HASH_MISMATCH_TOTAL`].
    pub hash_mismatch: Family<StreamLabels, Counter>,
    /// [`COMPAT_TOTAL`].
    pub compat: Family<StreamRuleLabels, Counter>,
    /// [`BACKLOG`].
    pub backlog: Family<StreamGroupLabels, Gauge>,
    publish_handles: Arc<RwLock<HashMap<String, HashMap<&'static str, PublishHandles>>>>,
}

/// The publish series of one stream and track, resolved once.
#[derive(Debug, Clone)]
pub struct PublishHandles {
    /// `outcome="success"`.
    pub success: Counter,
    /// `outcome="error"`.
    pub error: Counter,
    /// Latency histogram.
    pub latency_ms: Histogram,
}

/// The consume series of one stream and track, resolved once per subscription.
#[derive(Debug, Clone)]
pub struct ConsumeCounters {
    /// `pulse_consume_total{outcome="success"}`.
    pub success: Counter,
    /// `pulse_consume_total{outcome="error"}`.
    pub error: Counter,
    /// `pulse_consume_total{outcome="duplicate"}`.
    pub duplicate: Counter,
    /// `pulse_consume_total{outcome="dlq"}`.
    pub dlq: Counter,
    /// `pulse_dlq_total`.
    pub dead_lettered: Counter,
    /// `pulse_redeliveries_total`.
    pub redeliveries: Counter,
    /// `pulse_hash_mismatch_total`.
    pub hash_mismatch: Counter,
    /// `pulse_lag_ms`.
    pub lag_ms: Gauge<f64, AtomicU64>,
    /// `pulse_compat_total`, one series per rule in [`CompatRule::ALL`] order.
    pub compat: [Counter; 2],
}

impl ConsumeCounters {
    /// Records a decoded entry: a hash mismatch (processed in warn mode), the compatibility
    /// rule that let it in, and the lag of its event when it is `now` (Unix seconds).
    pub fn decoded<T>(&self, stream: &str, id: &str, decoded: &Decoded<T>, now: f64) {
        if !decoded.hash_ok {
            self.hash_mismatch.inc();
            tracing::warn!(stream, id, "payload hash mismatch (processed: warn mode)");
        }
        if let Some(rule) = decoded.compat {
            let at = CompatRule::ALL.iter().position(|r| *r == rule);
            if let Some(counter) = at.and_then(|i| self.compat.get(i)) {
                counter.inc();
            }
        }
        self.lag_ms
            .set(((now - decoded.event.ts) * 1000.0).max(0.0));
    }
}

impl Default for PulseMetrics {
    fn default() -> Self {
        Self {
            publish: Family::default(),
            publish_latency_ms: Family::new_with_constructor(
                latency_histogram as fn() -> Histogram,
            ),
            consume: Family::default(),
            lag_ms: Family::default(),
            redeliveries: Family::default(),
            dlq: Family::default(),
            hash_mismatch: Family::default(),
            compat: Family::default(),
            backlog: Family::default(),
            publish_handles: Arc::default(),
        }
    }
}

/// The name to register a counter under: prometheus-client appends `_total` itself.
fn counter_name(name: &str) -> &str {
    name.strip_suffix("_total").unwrap_or(name)
}

impl PulseMetrics {
    /// Registers every metric in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            counter_name(PUBLISH_TOTAL),
            "Publishes by outcome",
            self.publish.clone(),
        );
        registry.register(
            PUBLISH_LATENCY_MS,
            "Publish latency in milliseconds",
            self.publish_latency_ms.clone(),
        );
        registry.register(
            counter_name(CONSUME_TOTAL),
            "Consumed entries by outcome",
            self.consume.clone(),
        );
        registry.register(
            LAG_MS,
            "Event age at consumption in milliseconds",
            self.lag_ms.clone(),
        );
        registry.register(
            counter_name(REDELIVERIES_TOTAL),
            "Entries delivered again",
            self.redeliveries.clone(),
        );
        registry.register(
            counter_name(DLQ_TOTAL),
            "Entries dead-lettered",
            self.dlq.clone(),
        );
        registry.register(
            counter_name(HASH_MISMATCH_TOTAL),
            "Entries whose payload hash did not match",
            self.hash_mismatch.clone(),
        );
        registry.register(
            counter_name(COMPAT_TOTAL),
            "Entries read under a compatibility rule (PULSE_COMPAT)",
            self.compat.clone(),
        );
        registry.register(
            BACKLOG,
            "Entries a group has not acknowledged (undelivered and pending)",
            self.backlog.clone(),
        );
    }

    /// Records the backlog of `group` on `stream` (the un-namespaced name).
    pub fn record_backlog(&self, stream: &str, group: &str, entries: u64) {
        self.backlog
            .get_or_create(&StreamGroupLabels {
                stream: stream.to_owned(),
                group: group.to_owned(),
            })
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
    }

    /// The last recorded backlog of `group` on `stream` (tests, `mdp pulse stats`).
    pub fn backlog_value(&self, stream: &str, group: &str) -> i64 {
        self.backlog
            .get_or_create(&StreamGroupLabels {
                stream: stream.to_owned(),
                group: group.to_owned(),
            })
            .get()
    }

    /// The publish series of `stream` on `track` (cached: no allocation after the first call).
    pub fn publish_handles(&self, stream: &str, track: &'static str) -> PublishHandles {
        let cached = self
            .publish_handles
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(stream)
            .and_then(|by_track| by_track.get(track))
            .cloned();
        if let Some(handles) = cached {
            return handles;
        }
        let outcome = |outcome| OutcomeLabels {
            stream: stream.to_owned(),
            track: track.to_owned(),
            outcome,
        };
        // One statement per series: a `get_or_create` guard lives until the end of its
        // statement, and a second call on the same family within it would deadlock.
        let success = self.publish.get_or_create(&outcome("success")).clone();
        let error = self.publish.get_or_create(&outcome("error")).clone();
        let latency_ms = self
            .publish_latency_ms
            .get_or_create(&StreamTrackLabels {
                stream: stream.to_owned(),
                track: track.to_owned(),
            })
            .clone();
        let handles = PublishHandles {
            success,
            error,
            latency_ms,
        };
        self.publish_handles
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(stream.to_owned())
            .or_default()
            .insert(track, handles.clone());
        handles
    }

    /// The consume series of `stream` on `track`.
    pub fn consume_counters(&self, stream: &str, track: &'static str) -> ConsumeCounters {
        let outcome = |outcome| OutcomeLabels {
            stream: stream.to_owned(),
            track: track.to_owned(),
            outcome,
        };
        let by_stream = StreamLabels {
            stream: stream.to_owned(),
        };
        // One statement per series (see `publish_handles`).
        let success = self.consume.get_or_create(&outcome("success")).clone();
        let error = self.consume.get_or_create(&outcome("error")).clone();
        let duplicate = self.consume.get_or_create(&outcome("duplicate")).clone();
        let dlq = self.consume.get_or_create(&outcome("dlq")).clone();
        let dead_lettered = self.dlq.get_or_create(&by_stream).clone();
        let redeliveries = self.redeliveries.get_or_create(&by_stream).clone();
        let hash_mismatch = self.hash_mismatch.get_or_create(&by_stream).clone();
        let lag_ms = self.lag_ms.get_or_create(&by_stream).clone();
        let compat = CompatRule::ALL.map(|rule| {
            let labels = StreamRuleLabels {
                stream: stream.to_owned(),
                rule: rule.as_str(),
            };
            self.compat.get_or_create(&labels).clone()
        });
        ConsumeCounters {
            success,
            error,
            duplicate,
            dlq,
            dead_lettered,
            redeliveries,
            hash_mismatch,
            lag_ms,
            compat,
        }
    }

    /// The count of one `pulse_consume_total` series (tests, `mdp pulse stats`).
    pub fn consume_count(&self, stream: &str, track: &str, outcome: &'static str) -> u64 {
        self.consume
            .get_or_create(&OutcomeLabels {
                stream: stream.to_owned(),
                track: track.to_owned(),
                outcome,
            })
            .get()
    }
}
