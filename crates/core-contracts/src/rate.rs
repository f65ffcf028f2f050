//! `RateAdjustment`: what a pipeline applies to a provider's rate.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{finite_non_negative, non_empty, unit_interval, validated_deserialize};
use crate::{BackpressureLevel, Contract, ContractError, Track};

/// A change of a provider's budget scale, caused by a backpressure level.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RateAdjustment {
    /// Provider whose rate is adjusted.
    #[schemars(length(min = 1))]
    pub provider: String,
    /// Fraction of the base rate now in force, in [0, 1]; 0 pauses the provider.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub scale: f64,
    /// The backpressure level that caused the adjustment.
    pub reason: BackpressureLevel,
    /// Time of the feedback event that caused the adjustment, Unix epoch seconds.
    #[schemars(range(min = 0.0))]
    pub ts: f64,
    /// The coordinator whose feedback decided the level (v2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator_id: Option<String>,
}

impl RateAdjustment {
    /// A validated adjustment.
    ///
    /// ```
    /// use core_contracts::{BackpressureLevel, RateAdjustment};
    /// let adj = RateAdjustment::new("ibkr", 0.5, BackpressureLevel::Soft, 1729234567.123)?;
    /// assert_eq!(adj.scale, 0.5);
    /// assert!(RateAdjustment::new("ibkr", 1.5, BackpressureLevel::Ok, 0.0).is_err());
    /// # Ok::<(), core_contracts::ContractError>(())
    /// ```
    pub fn new(
        provider: impl Into<String>,
        scale: f64,
        reason: BackpressureLevel,
        ts: f64,
    ) -> Result<Self, ContractError> {
        let adj = Self {
            provider: provider.into(),
            scale,
            reason,
            ts,
            coordinator_id: None,
        };
        adj.validate()?;
        Ok(adj)
    }

    /// Names the coordinator whose feedback decided the level (v2).
    pub fn with_coordinator(mut self, coordinator_id: impl Into<String>) -> Self {
        self.coordinator_id = Some(coordinator_id.into());
        self
    }

    /// Checks every rule of the DTO.
    pub fn validate(&self) -> Result<(), ContractError> {
        non_empty("provider", &self.provider)?;
        unit_interval("scale", self.scale)?;
        finite_non_negative("ts", self.ts)?;
        Ok(())
    }
}

impl Contract for RateAdjustment {
    const SCHEMA_ID: &'static str = "telemetry.RateAdjustment";
    const PYTHON_SCHEMA_ID: Option<&'static str> = Some("telemetry.backpressure.RateAdjustment");
    const V2_FIELDS: &'static [&'static str] = &["coordinator_id"];

    fn for_track(&self, track: Track) -> Self {
        match track {
            Track::V1 => Self {
                coordinator_id: None,
                ..self.clone()
            },
            Track::V2 => self.clone(),
        }
    }
}

#[derive(Deserialize)]
struct Raw {
    provider: String,
    scale: f64,
    reason: BackpressureLevel,
    ts: f64,
    #[serde(default)]
    coordinator_id: Option<String>,
}

impl TryFrom<Raw> for RateAdjustment {
    type Error = ContractError;

    fn try_from(raw: Raw) -> Result<Self, Self::Error> {
        let adj = Self {
            provider: raw.provider,
            scale: raw.scale,
            reason: raw.reason,
            ts: raw.ts,
            coordinator_id: raw.coordinator_id,
        };
        adj.validate()?;
        Ok(adj)
    }
}

validated_deserialize!(RateAdjustment, Raw);
