//! The backpressure level a store reports: ok < soft < hard.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How hard a store is pushing back, ordered from no pressure to a full stop.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum BackpressureLevel {
    /// The store keeps up; producers may run at full rate.
    #[default]
    Ok,
    /// The store is filling up; producers should slow down.
    Soft,
    /// The store is full or failing; producers should pause.
    Hard,
}

impl BackpressureLevel {
    /// Every level, lowest first.
    pub const ALL: [Self; 3] = [Self::Ok, Self::Soft, Self::Hard];

    /// The wire name of the level.
    ///
    /// ```
    /// use core_contracts::BackpressureLevel;
    /// assert!(BackpressureLevel::Ok < BackpressureLevel::Soft);
    /// assert_eq!(BackpressureLevel::Hard.as_str(), "hard");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Soft => "soft",
            Self::Hard => "hard",
        }
    }

    /// The level as a gauge value: 0 ok, 1 soft, 2 hard.
    pub fn as_gauge(self) -> i64 {
        match self {
            Self::Ok => 0,
            Self::Soft => 1,
            Self::Hard => 2,
        }
    }
}

impl std::fmt::Display for BackpressureLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BackpressureLevel {
    type Err = crate::ContractError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ok" => Ok(Self::Ok),
            "soft" => Ok(Self::Soft),
            "hard" => Ok(Self::Hard),
            other => Err(crate::ContractError::invalid(
                "level",
                format!("must be one of ok, soft, hard; got {other:?}"),
            )),
        }
    }
}
