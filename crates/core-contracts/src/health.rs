//! Health reports and probes: `HealthComponent`, `HealthStatus`, `Probe`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{finite_non_negative, non_empty, validated_deserialize};
use crate::{Contract, ContractError};

/// The state of a service or one of its components.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// Working as intended.
    Healthy,
    /// Working, with reduced capacity or a failing optional part.
    Degraded,
    /// Not working.
    Unhealthy,
}

/// The health of one component of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthComponent {
    /// Component name, e.g. `sink` or `bus`.
    pub name: String,
    /// Component state.
    pub state: HealthState,
    /// Free-form details, e.g. `queue_depth`.
    #[serde(default)]
    pub details: BTreeMap<String, String>,
}

/// The health of a whole service.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HealthStatus {
    /// Service name.
    #[schemars(length(min = 1))]
    pub service: String,
    /// Overall state.
    pub state: HealthState,
    /// Per-component states.
    #[serde(default)]
    pub components: Vec<HealthComponent>,
    /// Service version.
    pub version: String,
    /// Time of the report, Unix epoch seconds.
    #[schemars(range(min = 0.0))]
    pub ts: f64,
}

impl HealthStatus {
    /// Checks every rule of the DTO.
    pub fn validate(&self) -> Result<(), ContractError> {
        non_empty("service", &self.service)?;
        finite_non_negative("ts", self.ts)
    }
}

impl Contract for HealthStatus {
    const SCHEMA_ID: &'static str = "telemetry.HealthStatus";
    const PYTHON_SCHEMA_ID: Option<&'static str> = Some("telemetry.health.HealthStatus");
}

#[derive(Deserialize)]
struct Raw {
    service: String,
    state: HealthState,
    #[serde(default)]
    components: Vec<HealthComponent>,
    version: String,
    ts: f64,
}

impl TryFrom<Raw> for HealthStatus {
    type Error = ContractError;

    fn try_from(raw: Raw) -> Result<Self, Self::Error> {
        let status = Self {
            service: raw.service,
            state: raw.state,
            components: raw.components,
            version: raw.version,
            ts: raw.ts,
        };
        status.validate()?;
        Ok(status)
    }
}

validated_deserialize!(HealthStatus, Raw);

/// Which question a probe answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProbeType {
    /// Is the process alive?
    Liveness,
    /// Can it take traffic?
    Readiness,
}

/// The outcome of a liveness or readiness probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Probe {
    /// Which probe ran.
    pub probe_type: ProbeType,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed, or other detail.
    #[serde(default)]
    pub message: Option<String>,
}
