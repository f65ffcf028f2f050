//! `FeedbackEvent`: what a store says about its write queue.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{finite_non_negative, non_empty, non_negative_int, validated_deserialize};
use crate::{BackpressureLevel, Contract, ContractError, Track};

/// A store coordinator's report of its queue depth and backpressure level.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FeedbackEvent {
    /// Identifier of the write coordinator that emitted the event.
    #[schemars(length(min = 1))]
    pub coordinator_id: String,
    /// Items waiting in the coordinator's queue.
    pub queue_size: u64,
    /// Capacity of the coordinator's queue.
    #[schemars(range(min = 1))]
    pub capacity: u64,
    /// Backpressure level at the time of the event.
    pub level: BackpressureLevel,
    /// Component that emitted the event.
    #[serde(default = "default_source")]
    pub source: String,
    /// Time of the event, Unix epoch seconds.
    #[schemars(range(min = 0.0))]
    pub ts: f64,
    /// Why the level changed, e.g. `queue_recovered` or `circuit_open` (v2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `queue_size / capacity` at the time of the event (v2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub utilization: Option<f64>,
    /// Per-coordinator sequence number, used to drop out-of-order events (v2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// Header of a store's last feedback event before a graceful stop (`"true"`): readers drop
/// the coordinator at once instead of waiting out its silence. It travels on both tracks;
/// readers that do not know it see an ordinary event.
pub const LEAVING_HEADER: &str = "leaving";

/// The `reason` of a store's last feedback event before a graceful stop.
pub const REASON_LEAVING: &str = "store_stopping";

fn default_source() -> String {
    "store".to_owned()
}

impl FeedbackEvent {
    /// A validated event from the store with no reason or sequence number.
    ///
    /// ```
    /// use core_contracts::{BackpressureLevel, FeedbackEvent};
    /// let ev = FeedbackEvent::new("bars-coord", 80, 100, BackpressureLevel::Soft, 1729234567.123)?;
    /// assert_eq!(ev.utilization(), 0.8);
    /// assert!(FeedbackEvent::new("", 1, 1, BackpressureLevel::Ok, 0.0).is_err());
    /// # Ok::<(), core_contracts::ContractError>(())
    /// ```
    pub fn new(
        coordinator_id: impl Into<String>,
        queue_size: u64,
        capacity: u64,
        level: BackpressureLevel,
        ts: f64,
    ) -> Result<Self, ContractError> {
        let event = Self {
            coordinator_id: coordinator_id.into(),
            queue_size,
            capacity,
            level,
            source: default_source(),
            ts,
            reason: None,
            utilization: None,
            seq: None,
        };
        event.validate()?;
        Ok(event)
    }

    /// Sets the reason for the level (store extension).
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the per-coordinator sequence number (v2).
    pub fn with_seq(mut self, seq: u64) -> Self {
        self.seq = Some(seq);
        self
    }

    /// `queue_size / capacity`, computed from the core fields.
    pub fn utilization(&self) -> f64 {
        ratio(self.queue_size, self.capacity)
    }

    /// Checks every rule of the DTO.
    pub fn validate(&self) -> Result<(), ContractError> {
        non_empty("coordinator_id", &self.coordinator_id)?;
        if self.capacity == 0 {
            return Err(ContractError::invalid("capacity", "must be > 0, got 0"));
        }
        non_empty("source", &self.source)?;
        finite_non_negative("ts", self.ts)?;
        if let Some(u) = self.utilization {
            finite_non_negative("utilization", u)?;
        }
        Ok(())
    }
}

fn ratio(queue_size: u64, capacity: u64) -> f64 {
    if capacity == 0 {
        return 0.0;
    }
    queue_size as f64 / capacity as f64
}

impl Contract for FeedbackEvent {
    const SCHEMA_ID: &'static str = "telemetry.FeedbackEvent";
    const PYTHON_SCHEMA_ID: Option<&'static str> = Some("telemetry.backpressure.FeedbackEvent");
    const V2_FIELDS: &'static [&'static str] = &["reason", "utilization", "seq"];

    fn for_track(&self, track: Track) -> Self {
        match track {
            Track::V1 => Self {
                reason: None,
                utilization: None,
                seq: None,
                ..self.clone()
            },
            Track::V2 => Self {
                utilization: Some(self.utilization()),
                ..self.clone()
            },
        }
    }
}

#[derive(Deserialize)]
struct Raw {
    coordinator_id: String,
    // Wider than the fields, so that a negative count is named as such; any u64 fits.
    queue_size: i128,
    capacity: i128,
    level: BackpressureLevel,
    #[serde(default = "default_source")]
    source: String,
    ts: f64,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    utilization: Option<f64>,
    #[serde(default)]
    seq: Option<u64>,
}

impl TryFrom<Raw> for FeedbackEvent {
    type Error = ContractError;

    fn try_from(raw: Raw) -> Result<Self, Self::Error> {
        let capacity = non_negative_int("capacity", raw.capacity)?;
        if capacity == 0 {
            return Err(ContractError::invalid("capacity", "must be > 0, got 0"));
        }
        let event = Self {
            coordinator_id: raw.coordinator_id,
            queue_size: non_negative_int("queue_size", raw.queue_size)?,
            capacity,
            level: raw.level,
            source: raw.source,
            ts: raw.ts,
            reason: raw.reason,
            utilization: raw.utilization,
            seq: raw.seq,
        };
        event.validate()?;
        Ok(event)
    }
}

validated_deserialize!(FeedbackEvent, Raw);
