//! The orchestrator's command to the members of a running system, `ControlCommand` (on
//! `{ns}.control.actions`), and each member's answer, `ControlReply` (on
//! `{ns}.control.results`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{finite_non_negative, non_empty, validated_deserialize};
use crate::{Contract, ContractError, ControlAction, ControlResult, NodeRole};

/// The target of a command that every member obeys.
pub const TARGET_ALL: &str = "all";

/// A control action sent to one member (by its id) or to all of them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ControlCommand {
    /// Unique id of the command; replies name it.
    #[schemars(length(min = 1))]
    pub id: String,
    /// What to do.
    pub action: ControlAction,
    /// `all`, or the id of one store or pipeline.
    #[schemars(length(min = 1))]
    pub target: String,
    /// The new base rate in bars per second, for `set_rate` only (> 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Who asked.
    #[schemars(length(min = 1))]
    pub actor: String,
    /// The actor's role (`admin` for a holder of the admin token).
    pub role: String,
    /// When, Unix epoch seconds.
    #[schemars(range(min = 0.0))]
    pub ts: f64,
}

impl ControlCommand {
    /// Checks every rule of the DTO: `set_rate` needs a finite value > 0, and the other
    /// actions take none.
    ///
    /// ```
    /// use core_contracts::{ControlAction, ControlCommand};
    /// let mut command = ControlCommand {
    ///     id: "c-1".into(), action: ControlAction::SetRate, target: "all".into(),
    ///     value: Some(500.0), actor: "ops".into(), role: "admin".into(), ts: 1.0,
    /// };
    /// assert!(command.validate().is_ok());
    /// command.value = None;
    /// assert!(command.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ContractError> {
        non_empty("id", &self.id)?;
        non_empty("target", &self.target)?;
        non_empty("actor", &self.actor)?;
        finite_non_negative("ts", self.ts)?;
        match (self.action, self.value) {
            (ControlAction::SetRate, Some(v)) if v.is_finite() && v > 0.0 => Ok(()),
            (ControlAction::SetRate, Some(v)) => Err(ContractError::invalid(
                "value",
                format!("set_rate needs a rate in bars per second > 0, got {v}"),
            )),
            (ControlAction::SetRate, None) => Err(ContractError::invalid(
                "value",
                "set_rate needs a rate in bars per second > 0",
            )),
            (action, Some(_)) => Err(ContractError::invalid(
                "value",
                format!("{} takes no value", action.as_str()),
            )),
            (_, None) => Ok(()),
        }
    }

    /// Whether the member `id` is aimed at: `target` is `all` or `id`.
    pub fn aims_at(&self, id: &str) -> bool {
        self.target == TARGET_ALL || self.target == id
    }

    /// Whether the member `id` of kind `role` is to carry it out (and answer): it is aimed
    /// at, except that a `set_rate` for `all` concerns pipelines only (a store named by its
    /// id answers it, with its refusal).
    ///
    /// ```
    /// use core_contracts::{ControlAction, ControlCommand, NodeRole};
    /// let command = ControlCommand {
    ///     id: "c-1".into(), action: ControlAction::SetRate, target: "all".into(),
    ///     value: Some(500.0), actor: "ops".into(), role: "admin".into(), ts: 1.0,
    /// };
    /// assert!(command.concerns(NodeRole::Pipeline, "p-1"));
    /// assert!(!command.concerns(NodeRole::Store, "s-1"));
    /// ```
    pub fn concerns(&self, role: NodeRole, id: &str) -> bool {
        if self.target == TARGET_ALL {
            return !(self.action == ControlAction::SetRate && role == NodeRole::Store);
        }
        self.aims_at(id)
    }
}

impl Contract for ControlCommand {
    const SCHEMA_ID: &'static str = "control.ControlCommand";
}

#[derive(Deserialize)]
struct RawCommand {
    id: String,
    action: ControlAction,
    target: String,
    #[serde(default)]
    value: Option<f64>,
    actor: String,
    role: String,
    ts: f64,
}

impl TryFrom<RawCommand> for ControlCommand {
    type Error = ContractError;

    fn try_from(raw: RawCommand) -> Result<Self, Self::Error> {
        let command = Self {
            id: raw.id,
            action: raw.action,
            target: raw.target,
            value: raw.value,
            actor: raw.actor,
            role: raw.role,
            ts: raw.ts,
        };
        command.validate()?;
        Ok(command)
    }
}

validated_deserialize!(ControlCommand, RawCommand);

/// One member's answer to a [`ControlCommand`].
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ControlReply {
    /// The id of the command answered.
    #[schemars(length(min = 1))]
    pub command_id: String,
    /// The id of the member that answers.
    #[schemars(length(min = 1))]
    pub member: String,
    /// What kind of member it is.
    pub role: NodeRole,
    /// The action it carried out (or refused).
    pub action: ControlAction,
    /// How it went.
    pub result: ControlResult,
    /// When, Unix epoch seconds.
    #[schemars(range(min = 0.0))]
    pub ts: f64,
}

impl ControlReply {
    /// Checks every rule of the DTO.
    pub fn validate(&self) -> Result<(), ContractError> {
        non_empty("command_id", &self.command_id)?;
        non_empty("member", &self.member)?;
        finite_non_negative("ts", self.ts)
    }
}

impl Contract for ControlReply {
    const SCHEMA_ID: &'static str = "control.ControlReply";
}

#[derive(Deserialize)]
struct RawReply {
    command_id: String,
    member: String,
    role: NodeRole,
    action: ControlAction,
    result: ControlResult,
    ts: f64,
}

impl TryFrom<RawReply> for ControlReply {
    type Error = ContractError;

    fn try_from(raw: RawReply) -> Result<Self, Self::Error> {
        let reply = Self {
            command_id: raw.command_id,
            member: raw.member,
            role: raw.role,
            action: raw.action,
            result: raw.result,
            ts: raw.ts,
        };
        reply.validate()?;
        Ok(reply)
    }
}

validated_deserialize!(ControlReply, RawReply);

#[cfg(test)]
mod tests {
    use super::*;

    fn command(action: ControlAction, value: Option<f64>) -> ControlCommand {
        ControlCommand {
            id: "c-1".into(),
            action,
            target: TARGET_ALL.into(),
            value,
            actor: "ops".into(),
            role: "admin".into(),
            ts: 1.0,
        }
    }

    #[test]
    fn a_value_only_for_set_rate_and_then_a_positive_one() {
        assert!(command(ControlAction::Pause, None).validate().is_ok());
        assert!(
            command(ControlAction::SetRate, Some(10.0))
                .validate()
                .is_ok()
        );
        for bad in [
            command(ControlAction::Pause, Some(1.0)),
            command(ControlAction::SetRate, None),
            command(ControlAction::SetRate, Some(0.0)),
            command(ControlAction::SetRate, Some(f64::NAN)),
        ] {
            let error = bad.validate().expect_err("refused");
            assert!(error.to_string().contains("value"), "{error}");
        }
    }

    #[test]
    fn decoding_checks_the_rules() {
        let bad =
            r#"{"id":"c","action":"set_rate","target":"all","actor":"a","role":"admin","ts":1}"#;
        let error = serde_json::from_str::<ControlCommand>(bad).expect_err("no value");
        assert!(
            error.to_string().contains("set_rate needs a rate"),
            "{error}"
        );
        let good =
            r#"{"id":"c","action":"pause","target":"p-1","actor":"a","role":"admin","ts":1}"#;
        let command: ControlCommand = serde_json::from_str(good).expect("valid");
        assert!(command.aims_at("p-1") && !command.aims_at("p-2"));
    }

    #[test]
    fn members_carry_out_what_concerns_them() {
        let (store, pipeline) = (NodeRole::Store, NodeRole::Pipeline);
        let pause = |target: &str| ControlCommand {
            target: target.into(),
            ..command(ControlAction::Pause, None)
        };
        let set_rate = |target: &str| ControlCommand {
            target: target.into(),
            ..command(ControlAction::SetRate, Some(10.0))
        };
        assert!(pause("all").concerns(store, "s-1") && pause("all").concerns(pipeline, "p-1"));
        assert!(!pause("p-1").concerns(store, "s-1") && pause("p-1").concerns(pipeline, "p-1"));
        assert!(!set_rate("all").concerns(store, "s-1"));
        assert!(set_rate("all").concerns(pipeline, "p-1"));
        // named by its id, a store answers set_rate (with its refusal)
        assert!(set_rate("s-1").concerns(store, "s-1"));
    }
}
