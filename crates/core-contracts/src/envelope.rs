//! `EventMeta`, `EventEnvelope<T>` and `WireEvent<T>`, the JSON a bus entry carries.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Contract, Track, payload_hash};

/// Metadata of an event: what schema the payload follows and how to check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventMeta {
    /// Schema id of the payload, e.g. `telemetry.FeedbackEvent`.
    pub schema_id: String,
    /// Schema track of the payload.
    #[serde(default)]
    pub track: Track,
    /// Free-form string headers, e.g. `reason` and `utilization`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// SHA-256 hex of the payload as compact JSON (see [`payload_hash`]); may be absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// An event with its bus id: what a consumer is handed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventEnvelope<T> {
    /// The backend's entry id (a Redis stream id, or a sequence number in memory).
    pub id: String,
    /// Partition or routing key, e.g. the coordinator id.
    pub key: Option<String>,
    /// Time the event was published, Unix epoch seconds.
    pub ts: f64,
    /// Schema id, track, headers and hash.
    pub meta: EventMeta,
    /// The DTO.
    pub payload: T,
}

/// An event as written in a stream entry's `data` field: the envelope without its id.
///
/// ```
/// use core_contracts::{BackpressureLevel, FeedbackEvent, Track, WireEvent};
/// let ev = FeedbackEvent::new("bars-coord", 80, 100, BackpressureLevel::Soft, 1729234567.123)?;
/// let wire = WireEvent::seal(&ev, Some("bars-coord".into()), 1795343812.6251104, Track::V1)?;
/// assert_eq!(
///     wire.meta.hash.as_deref(),
///     Some("65e1bc4bb4ffe69895da0cdb37333aa7f0c4a58f9ef21645717d91df18003dc3")
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WireEvent<T> {
    /// Time the event was published, Unix epoch seconds.
    pub ts: f64,
    /// Partition or routing key.
    pub key: Option<String>,
    /// Schema id, track, headers and hash.
    pub meta: EventMeta,
    /// The DTO.
    pub payload: T,
}

impl<T: Contract> WireEvent<T> {
    /// Wraps `payload` as written on `track` (v2-only fields cleared on v1), with its schema
    /// id, no headers and the payload hash.
    pub fn seal(
        payload: &T,
        key: Option<String>,
        ts: f64,
        track: Track,
    ) -> Result<Self, serde_json::Error> {
        let payload = payload.for_track(track);
        let hash = payload_hash(&payload)?;
        Ok(Self {
            ts,
            key,
            meta: EventMeta {
                schema_id: T::SCHEMA_ID.to_owned(),
                track,
                headers: BTreeMap::new(),
                hash: Some(hash),
            },
            payload,
        })
    }

    /// Adds a header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.meta.headers.insert(name.into(), value.into());
        self
    }
}

impl<T> WireEvent<T> {
    /// Gives the event its bus id.
    pub fn into_envelope(self, id: impl Into<String>) -> EventEnvelope<T> {
        EventEnvelope {
            id: id.into(),
            key: self.key,
            ts: self.ts,
            meta: self.meta,
            payload: self.payload,
        }
    }
}

impl<T> EventEnvelope<T> {
    /// The event without its id, as written on the wire.
    pub fn into_wire(self) -> WireEvent<T> {
        WireEvent {
            ts: self.ts,
            key: self.key,
            meta: self.meta,
            payload: self.payload,
        }
    }
}
