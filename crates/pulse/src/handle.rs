//! [`Pulse`]: typed publishing and subscribing over any [`EventBus`], with the codec, the
//! configured track and namespace, and metrics.
//!
//! Publishing follows the stream's [`Retention`](crate::Retention): telemetry and control
//! streams are trimmed by count on publish; data streams are trimmed only below what their
//! groups still need, by [`Pulse::trim_acknowledged`], which a publisher runs itself at most
//! once per second per stream (and consumers call after acking).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use core_contracts::{Clock, Contract, SystemClock, WireEvent};

use crate::backend::{self, Backlog, DeadLetter, EventBus, Fields};
use crate::trim_schedule::TrimSchedule;
use crate::{
    Broadcast, BusError, PulseConfig, PulseMetrics, Retention, StreamName, Subscription, codec,
};

/// A handle on the bus. Cheap to clone; clones share the backend and the metrics.
#[derive(Clone)]
pub struct Pulse {
    bus: Arc<dyn EventBus>,
    config: Arc<PulseConfig>,
    metrics: PulseMetrics,
    clock: Arc<dyn Clock>,
    trims: Arc<TrimSchedule>,
}

impl std::fmt::Debug for Pulse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pulse")
            .field("backend", &self.bus.kind())
            .field("config", &self.config)
            .finish()
    }
}

impl Pulse {
    /// Opens the backend `config` names (the shared in-memory bus, or Redis).
    pub async fn from_config(config: PulseConfig) -> Result<Self, BusError> {
        let bus = backend::from_config(&config).await?;
        Ok(Self::new(bus, config))
    }

    /// A handle on `bus` with `config`.
    pub fn new(bus: Arc<dyn EventBus>, config: PulseConfig) -> Self {
        Self {
            bus,
            config: Arc::new(config),
            metrics: PulseMetrics::default(),
            clock: Arc::new(SystemClock::new()),
            trims: Arc::default(),
        }
    }

    /// Uses `clock` for event timestamps and lag.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Shares `metrics` (e.g. one set per process).
    pub fn with_metrics(mut self, metrics: PulseMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &PulseConfig {
        &self.config
    }

    /// The metrics.
    pub fn metrics(&self) -> &PulseMetrics {
        &self.metrics
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn EventBus> {
        &self.bus
    }

    /// The stream `name` in the configured namespace and key prefix.
    pub fn stream(&self, name: &str) -> StreamName {
        StreamName::new(&self.config.namespace, &self.config.key_prefix, name)
    }

    /// The retention of `stream` under the configured `PULSE_RETENTION_MAXLEN`.
    pub fn retention(&self, stream: &StreamName) -> Retention {
        stream.retention(self.config.retention.get())
    }

    /// Wraps `payload` for the configured track, stamped now, with its hash.
    pub fn seal<T: Contract>(
        &self,
        payload: &T,
        key: Option<&str>,
    ) -> Result<WireEvent<T>, BusError> {
        WireEvent::seal(
            payload,
            key.map(str::to_owned),
            self.clock.unix_seconds(),
            self.config.track,
        )
        .map_err(|e| BusError::Encode(e.to_string()))
    }

    /// Publishes `payload` on stream `name` under `key`; returns the entry id.
    pub async fn publish<T: Contract>(
        &self,
        name: &str,
        payload: &T,
        key: Option<&str>,
    ) -> Result<String, BusError> {
        let event = self.seal(payload, key)?;
        self.publish_event(name, &event).await
    }

    /// Publishes a sealed event (e.g. one with headers); returns the entry id.
    pub async fn publish_event<T: Contract>(
        &self,
        name: &str,
        event: &WireEvent<T>,
    ) -> Result<String, BusError> {
        let stream = self.stream(name);
        let started = Instant::now();
        let result = match self.encode(event) {
            Ok(data) => {
                self.bus
                    .publish(stream.key(), &data, self.retention(&stream))
                    .await
            }
            Err(e) => Err(e),
        };
        self.record_publish(&stream, result.is_ok(), started, 1);
        if result.is_ok() {
            self.trim_if_due(&stream).await;
        }
        result
    }

    /// Publishes several sealed events in one round trip; ids in order.
    pub async fn publish_batch<T: Contract>(
        &self,
        name: &str,
        events: &[WireEvent<T>],
    ) -> Result<Vec<String>, BusError> {
        let stream = self.stream(name);
        let started = Instant::now();
        let data: Result<Vec<String>, BusError> = events.iter().map(|e| self.encode(e)).collect();
        let result = match data {
            Ok(data) => {
                self.bus
                    .publish_batch(stream.key(), &data, self.retention(&stream))
                    .await
            }
            Err(e) => Err(e),
        };
        self.record_publish(&stream, result.is_ok(), started, events.len());
        if result.is_ok() {
            self.trim_if_due(&stream).await;
        }
        result
    }

    /// Trims data stream `stream` below what its groups still need if this handle has not
    /// done so within the last second; a failure is logged, never the publisher's error.
    async fn trim_if_due(&self, stream: &StreamName) {
        if self.retention(stream) != Retention::Acknowledged
            || !self.trims.claim(stream.key(), self.clock.elapsed())
        {
            return;
        }
        if let Err(error) = self.bus.trim_acknowledged(stream.key()).await {
            tracing::warn!(stream = stream.full(), %error, "cannot trim acknowledged entries");
        }
    }

    /// Removes the entries of stream `name` below the oldest entry one of its groups still
    /// needs (pending, or not yet delivered); returns how many were removed. Consumers of a
    /// data stream call it after acking; nothing unread is ever deleted.
    pub async fn trim_acknowledged(&self, name: &str) -> Result<u64, BusError> {
        self.bus.trim_acknowledged(self.stream(name).key()).await
    }

    /// How far `group` is behind on stream `name` (zeros when either is missing); records
    /// the total as the `pulse_backlog{stream,group}` gauge.
    pub async fn backlog(&self, name: &str, group: &str) -> Result<Backlog, BusError> {
        let stream = self.stream(name);
        let backlog = self.bus.backlog(stream.key(), group).await?;
        self.metrics
            .record_backlog(stream.label(), group, backlog.total());
        Ok(backlog)
    }

    fn encode<T: Contract>(&self, event: &WireEvent<T>) -> Result<String, BusError> {
        if !self.config.enabled {
            return Err(BusError::Disabled);
        }
        let data = codec::encode(event).map_err(|e| BusError::Encode(e.to_string()))?;
        let max = self.config.max_message_bytes.get();
        if data.len() > max {
            return Err(BusError::TooLarge {
                size: data.len(),
                max,
            });
        }
        Ok(data)
    }

    fn record_publish(&self, stream: &StreamName, ok: bool, started: Instant, count: usize) {
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let handles = self
            .metrics
            .publish_handles(stream.label(), self.config.track.as_str());
        if ok {
            handles.success.inc_by(count as u64);
            for _ in 0..count {
                handles.latency_ms.observe(millis);
            }
        } else {
            handles.error.inc_by(count as u64);
            tracing::warn!(stream = stream.full(), count, "publish failed");
        }
    }

    /// Joins consumer group `group` on stream `name` as `consumer` (creating the group from
    /// the oldest retained entry if needed).
    pub async fn subscribe<T: Contract>(
        &self,
        name: &str,
        group: &str,
        consumer: &str,
    ) -> Result<Subscription<T>, BusError> {
        let stream = self.stream(name);
        self.bus.ensure_group(stream.key(), group).await?;
        let reader = self.bus.reader().await?;
        Ok(Subscription::new(
            self.clone(),
            stream,
            group,
            consumer,
            reader,
        ))
    }

    /// A broadcast reader of stream `name`: it sees every entry, takes none from any other
    /// reader, and leaves nothing in the backend (see [`Broadcast`]).
    pub async fn broadcast<T: Contract>(&self, name: &str) -> Result<Broadcast<T>, BusError> {
        let reader = self.bus.reader().await?;
        Ok(Broadcast::new(self.clone(), self.stream(name), reader))
    }

    /// Up to `count` entries of the dead-letter stream of `name`.
    pub async fn dead_letters(
        &self,
        name: &str,
        count: usize,
    ) -> Result<Vec<DeadLetter>, BusError> {
        self.bus.dead_letters(self.stream(name).key(), count).await
    }

    /// Re-publishes up to `count` dead letters of `name` to `name` (every original field,
    /// byte for byte, under the stream's retention) and removes them from the dead-letter
    /// stream; returns how many were replayed.
    pub async fn replay_dead_letters(&self, name: &str, count: usize) -> Result<usize, BusError> {
        let stream = self.stream(name);
        let letters = self.bus.dead_letters(stream.key(), count).await?;
        if letters.is_empty() {
            return Ok(0);
        }
        let (ids, entries): (Vec<String>, Vec<Fields>) =
            letters.into_iter().map(|d| (d.id, d.fields)).unzip();
        self.bus
            .publish_raw(stream.key(), &entries, self.retention(&stream))
            .await?;
        self.bus.remove_dead_letters(stream.key(), &ids).await?;
        self.trim_if_due(&stream).await;
        Ok(ids.len())
    }

    /// Backend health, plus the namespace and track.
    pub async fn health(&self) -> BTreeMap<String, String> {
        let mut health = self.bus.health().await;
        health.insert("namespace".into(), self.config.namespace.clone());
        health.insert("track".into(), self.config.track.as_str().into());
        health
    }

    /// Whether the bus is ready: its health map reports no error status.
    pub async fn is_ready(&self) -> bool {
        self.health()
            .await
            .get("status")
            .is_none_or(|status| status == "ok")
    }
}
