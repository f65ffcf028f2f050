//! The [`EventBus`] trait every backend implements, and the backends: [`memory`] (one shared
//! in-process bus) and `redis_streams` (Redis Streams, cargo feature `redis`), chosen by
//! [`BackendKind`]; [`entry`] holds the entry types (raw fields,
//! dead letters), [`retention`] what a stream's groups still need (trim point, backlog).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::{BackendKind, BusError, PulseConfig, Retention};

pub mod entry;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis_streams;
pub mod retention;

pub use entry::{DeadLetter, Fields, RawEntry};
pub use retention::Backlog;

/// What `fail` did with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// The message will be delivered again (to any consumer of the group).
    Redelivered {
        /// Deliveries so far.
        deliveries: u32,
    },
    /// The message reached `max_deliveries` and is now in the dead-letter stream.
    DeadLettered {
        /// Deliveries made.
        deliveries: u32,
    },
}

impl FailOutcome {
    /// `redelivered` or `dead_lettered`, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redelivered { .. } => "redelivered",
            Self::DeadLettered { .. } => "dead_lettered",
        }
    }
}

/// The operations of an event bus over raw entries, identical in meaning on every backend.
///
/// `key` is a stream's backend key ([`StreamName::key`](crate::StreamName::key)); the
/// dead-letter stream of `key` is `{key}.dlq`. Consumer groups fan out (each group sees every
/// entry) and consumers within a group compete (each entry goes to one of them). An entry is
/// pending with its consumer until acked.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// The backend's name, `inmem` or `redis`.
    fn kind(&self) -> &'static str;

    /// Appends one entry with field `data`; with [`Retention::MaxLen`] the stream is trimmed
    /// to about that many entries, with [`Retention::Acknowledged`] it is not trimmed.
    async fn publish(
        &self,
        key: &str,
        data: &str,
        retention: Retention,
    ) -> Result<String, BusError>;

    /// Appends several entries with field `data` in one round trip; ids in order.
    async fn publish_batch(
        &self,
        key: &str,
        data: &[String],
        retention: Retention,
    ) -> Result<Vec<String>, BusError>;

    /// Appends entries with the given fields, byte for byte (a dead-letter replay); ids in
    /// order.
    async fn publish_raw(
        &self,
        key: &str,
        entries: &[Fields],
        retention: Retention,
    ) -> Result<Vec<String>, BusError>;

    /// Removes the entries of `key` below the oldest entry some group still needs (its
    /// oldest pending entry, or the first entry after its last-delivered id); returns how
    /// many were removed. A stream without groups is left alone. Redis trims whole nodes
    /// (`XTRIM MINID ~`), so it may keep a few entries more than the in-memory bus.
    async fn trim_acknowledged(&self, key: &str) -> Result<u64, BusError>;

    /// How far `group` is behind on `key`; zeros when the stream or the group is missing.
    async fn backlog(&self, key: &str, group: &str) -> Result<Backlog, BusError>;

    /// Creates `group` on `key` starting from the oldest retained entry, if it does not exist.
    async fn ensure_group(&self, key: &str, group: &str) -> Result<(), BusError>;

    /// A reader for one consumer, with a connection of its own so that blocking reads never
    /// delay publishes or acks.
    async fn reader(&self) -> Result<Box<dyn StreamReader>, BusError>;

    /// Acknowledges entries: they leave the group's pending list.
    async fn ack(&self, key: &str, group: &str, ids: &[String]) -> Result<(), BusError>;

    /// Resets the idle time of those of `ids` that `consumer` still owns, so they are not
    /// reclaimed; an entry another consumer has taken over is left with it. Returns how many
    /// were refreshed.
    async fn touch(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        ids: &[String],
    ) -> Result<u64, BusError>;

    /// Gives a failed entry back for redelivery to the group, or, once it has been delivered
    /// `max_deliveries` times, moves it to the dead-letter stream (with `reason`) and acks it.
    async fn fail(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        id: &str,
        reason: &str,
        policy: FailPolicy,
    ) -> Result<FailOutcome, BusError>;

    /// Moves an entry to the dead-letter stream at once and acks it (undecodable entries).
    async fn dead_letter(
        &self,
        key: &str,
        group: &str,
        entry: &RawEntry,
        reason: &str,
        deliveries: u32,
    ) -> Result<(), BusError>;

    /// Up to `count` entries of the dead-letter stream of `key`, oldest first.
    async fn dead_letters(&self, key: &str, count: usize) -> Result<Vec<DeadLetter>, BusError>;

    /// Deletes entries of the dead-letter stream of `key` (after a replay).
    async fn remove_dead_letters(&self, key: &str, ids: &[String]) -> Result<(), BusError>;

    /// The newest `count` entries of `key`, oldest first (no group involved: a broadcast
    /// reader's history).
    async fn read_latest(&self, key: &str, count: usize) -> Result<Vec<RawEntry>, BusError>;

    /// Number of entries retained in `key`.
    async fn len(&self, key: &str) -> Result<u64, BusError>;

    /// Number of entries pending (delivered, not acked) in `group` on `key`.
    async fn pending(&self, key: &str, group: &str) -> Result<u64, BusError>;

    /// Backend health as string pairs (`backend`, `status`, ...), never with secrets.
    async fn health(&self) -> BTreeMap<String, String>;

    /// Whether every acknowledged publish survives a restart of the backend: Redis with
    /// `appendonly yes` (`Some(true)`) or without (`Some(false)`); `None` when the backend
    /// cannot tell (Redis refusing `CONFIG GET`) or keeps nothing across restarts by design
    /// (the in-process bus lives and dies with its process).
    async fn survives_restart(&self) -> Result<Option<bool>, BusError>;
}

/// How `fail` decides between redelivery and the dead-letter stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailPolicy {
    /// Deliveries after which the entry is dead-lettered.
    pub max_deliveries: u32,
    /// The group's idle timeout; a failed entry is made to look this idle so that the next
    /// reclaim by any consumer picks it up.
    pub idle_timeout: Duration,
}

/// Reads for one consumer of one group.
#[async_trait]
pub trait StreamReader: Send + Sync {
    /// Entries already pending with `consumer` (left by an earlier run of it), after `after`
    /// (an id, `0` for the start), up to `count`.
    async fn read_pending(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        after: &str,
        count: usize,
    ) -> Result<Vec<RawEntry>, BusError>;

    /// New entries never delivered to the group, waiting up to `block` for at least one.
    async fn read_new(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<RawEntry>, BusError>;

    /// Entries of `key` after id `after` (`0-0` for the start), without any group, waiting
    /// up to `block` for at least one: a broadcast read, so every reader sees every entry.
    async fn read_after(
        &mut self,
        key: &str,
        after: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<RawEntry>, BusError>;

    /// Takes over entries pending in the group for longer than `min_idle` (from dead or
    /// failing consumers), counting a delivery for each. Successive calls continue the scan
    /// of the pending entries after the last one looked at, back to the start once it reached
    /// the end (the `XAUTOCLAIM` cursor), so more idle entries than `count` are all taken in
    /// turn.
    async fn claim_idle(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<RawEntry>, BusError>;
}

/// The backend `config` names: the process's shared in-memory bus, or a Redis Streams bus
/// (an error in a build without the cargo feature `redis`).
pub async fn from_config(config: &PulseConfig) -> Result<Arc<dyn EventBus>, BusError> {
    match config.backend {
        BackendKind::InMemory => Ok(Arc::new(memory::InMemoryBus::shared())),
        #[cfg(feature = "redis")]
        BackendKind::Redis => Ok(Arc::new(
            redis_streams::RedisStreamsBus::connect(config).await?,
        )),
        #[cfg(not(feature = "redis"))]
        BackendKind::Redis => Err(BusError::Command(format!(
            "EVENT_BUS_BACKEND=redis: expected {}",
            crate::config::NO_REDIS_BACKEND
        ))),
    }
}
