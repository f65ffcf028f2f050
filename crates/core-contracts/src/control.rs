//! Operator control: `ControlAction`, `ControlResult`, `AuditEnvelope`, and the command and
//! reply that carry an action to the members of a running system (`ControlCommand`,
//! `ControlReply`, see [`crate::command`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{finite_non_negative, non_empty, validated_deserialize};
use crate::{Contract, ContractError};

/// An operator command to a running service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ControlAction {
    /// Stop taking new work.
    Pause,
    /// Take new work again.
    Resume,
    /// Re-read configuration.
    Reload,
    /// Change a pipeline's base rate (bars per second); an mdp extension the Python
    /// originals do not know.
    #[serde(rename = "set_rate")]
    SetRate,
}

impl ControlAction {
    /// The wire name: `pause`, `resume`, `reload` or `set_rate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Reload => "reload",
            Self::SetRate => "set_rate",
        }
    }
}

/// Whether a control action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ControlStatus {
    /// The action was carried out.
    Ok,
    /// The action failed; see `detail`.
    Error,
}

/// The outcome of a control action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ControlResult {
    /// Outcome.
    pub status: ControlStatus,
    /// Human-readable detail.
    #[serde(default)]
    pub detail: Option<String>,
}

/// An audit record of who did what, and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AuditEnvelope {
    /// Who acted.
    #[schemars(length(min = 1))]
    pub actor: String,
    /// The actor's role.
    pub role: String,
    /// What they did.
    pub action: ControlAction,
    /// How it went.
    pub result: ControlResult,
    /// When, Unix epoch seconds.
    #[schemars(range(min = 0.0))]
    pub ts: f64,
    /// Whom it was aimed at (`all` or a member id); optional, and ignored by readers that
    /// do not know it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl AuditEnvelope {
    /// Checks every rule of the DTO.
    pub fn validate(&self) -> Result<(), ContractError> {
        non_empty("actor", &self.actor)?;
        finite_non_negative("ts", self.ts)
    }
}

impl Contract for AuditEnvelope {
    const SCHEMA_ID: &'static str = "control.AuditEnvelope";
    const PYTHON_SCHEMA_ID: Option<&'static str> = Some("telemetry.control.AuditEnvelope");
}

#[derive(Deserialize)]
struct Raw {
    actor: String,
    role: String,
    action: ControlAction,
    result: ControlResult,
    ts: f64,
    #[serde(default)]
    target: Option<String>,
}

impl TryFrom<Raw> for AuditEnvelope {
    type Error = ContractError;

    fn try_from(raw: Raw) -> Result<Self, Self::Error> {
        let audit = Self {
            actor: raw.actor,
            role: raw.role,
            action: raw.action,
            result: raw.result,
            ts: raw.ts,
            target: raw.target,
        };
        audit.validate()?;
        Ok(audit)
    }
}

validated_deserialize!(AuditEnvelope, Raw);
