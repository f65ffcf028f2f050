//! Relaying an operator's command: checks it, publishes a `ControlCommand` on
//! `{ns}.control.actions`, waits for the answer of every live member it concerns (on
//! `{ns}.control.results`) for at most the timeout, and writes one `AuditEnvelope` (actor,
//! action, target, result, ts) to `{ns}.control.audit` and to the log.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use core_contracts::{
    AuditEnvelope, ControlAction, ControlCommand, ControlReply, ControlResult, ControlStatus,
    TARGET_ALL,
};
use pulse::Pulse;
use pulse::stream::{CONTROL_ACTIONS, CONTROL_AUDIT};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::state::Shared;

/// The role written in the audit trail for a holder of the admin token.
pub(crate) const ADMIN_ROLE: &str = "admin";

/// The longest wait for answers a request may ask for.
const MAX_TIMEOUT: f64 = 60.0;

/// `POST /api/control`'s body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ControlRequest {
    /// `pause`, `resume` or `set_rate`.
    pub(crate) action: ControlAction,
    /// `all` or a member id (default `all`).
    #[serde(default)]
    pub(crate) target: Option<String>,
    /// For set_rate: bars per second.
    #[serde(default)]
    pub(crate) value: Option<f64>,
    /// Who acts, for the audit trail (default `operator`).
    #[serde(default)]
    pub(crate) actor: Option<String>,
    /// How long to wait for the answers, seconds (default the orchestrator's).
    #[serde(default)]
    pub(crate) timeout_sec: Option<f64>,
}

/// What `POST /api/control` answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ControlOutcome {
    /// The command sent.
    pub(crate) command: ControlCommand,
    /// Every answer, in the order they came.
    pub(crate) replies: Vec<ControlReply>,
    /// The live members concerned that did not answer in time.
    pub(crate) missing: Vec<String>,
    /// The whole: ok when every member concerned answered ok.
    pub(crate) result: ControlResult,
}

/// Why a request was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum RelayError {
    /// The request is not a valid command.
    #[error("{0}")]
    Invalid(String),
    /// The target names no member the orchestrator knows.
    #[error("no store or pipeline named {0:?} is known (mdp top lists them)")]
    UnknownTarget(String),
    /// The bus refused the command.
    #[error("cannot publish the command: {0}")]
    Bus(String),
}

/// Relays commands for the orchestrator.
#[derive(Debug, Clone)]
pub(crate) struct Relay {
    pulse: Pulse,
    shared: Arc<Shared>,
    timeout: Duration,
}

impl Relay {
    /// A relay over `pulse`, waiting `timeout` for answers unless a request says otherwise.
    pub(crate) fn new(pulse: Pulse, shared: Arc<Shared>, timeout: Duration) -> Self {
        Self {
            pulse,
            shared,
            timeout,
        }
    }

    /// Sends `request`, waits for the answers, audits the outcome.
    pub(crate) async fn send(&self, request: ControlRequest) -> Result<ControlOutcome, RelayError> {
        let now = self.pulse.clock().unix_seconds();
        let command = command_of(&request, now)?;
        let timeout = match request.timeout_sec {
            None => self.timeout,
            Some(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT => {
                Duration::from_secs_f64(secs)
            }
            Some(secs) => {
                return Err(RelayError::Invalid(format!(
                    "timeout_sec must be within (0, {MAX_TIMEOUT}], got {secs}"
                )));
            }
        };
        let expected: BTreeSet<String> = {
            let topology = self.shared.topology();
            if command.target != TARGET_ALL && topology.role_of(&command.target).is_none() {
                return Err(RelayError::UnknownTarget(command.target.clone()));
            }
            topology
                .live(now)
                .into_iter()
                .filter(|(role, id)| command.concerns(*role, id))
                .map(|(_, id)| id)
                .collect()
        };
        // listening before publishing: no answer can slip past
        let mut replies = self.shared.replies.subscribe();
        self.pulse
            .publish(CONTROL_ACTIONS, &command, Some(&command.target))
            .await
            .map_err(|e| RelayError::Bus(e.to_string()))?;
        // the first answer of each member expected counts; others (a member that was not
        // live when it was sent, a repeat) are listed but do not decide the outcome
        let mut counted = Vec::new();
        let mut others = Vec::new();
        let mut waiting = expected.clone();
        let deadline = tokio::time::Instant::now() + timeout;
        while !waiting.is_empty() {
            match tokio::time::timeout_at(deadline, replies.recv()).await {
                Err(_) => break,
                Ok(Err(RecvError::Closed)) => break,
                Ok(Err(RecvError::Lagged(n))) => {
                    tracing::warn!(missed = n, "replies came faster than they were read");
                }
                Ok(Ok(reply)) if reply.command_id == command.id => {
                    if waiting.remove(&reply.member) {
                        counted.push(reply);
                    } else {
                        others.push(reply);
                    }
                }
                Ok(Ok(_)) => {}
            }
        }
        let missing: Vec<String> = waiting.into_iter().collect();
        let result = summary(&counted, &missing, expected.len());
        self.audit(&command, &result).await;
        counted.extend(others);
        Ok(ControlOutcome {
            command,
            replies: counted,
            missing,
            result,
        })
    }

    async fn audit(&self, command: &ControlCommand, result: &ControlResult) {
        let audit = AuditEnvelope {
            actor: command.actor.clone(),
            role: command.role.clone(),
            action: command.action,
            result: result.clone(),
            ts: self.pulse.clock().unix_seconds(),
            target: Some(command.target.clone()),
        };
        tracing::info!(
            actor = audit.actor,
            role = audit.role,
            action = audit.action.as_str(),
            target = command.target,
            value = command.value,
            command = command.id,
            status = ?audit.result.status,
            detail = audit.result.detail.as_deref().unwrap_or(""),
            "audit"
        );
        if let Err(error) = self
            .pulse
            .publish(CONTROL_AUDIT, &audit, Some(&command.id))
            .await
        {
            tracing::error!(%error, command = command.id, "cannot write the audit record to the bus");
        }
    }
}

/// The command a request asks for, or why it is not one.
fn command_of(request: &ControlRequest, now: f64) -> Result<ControlCommand, RelayError> {
    if request.action == ControlAction::Reload {
        return Err(RelayError::Invalid(
            "reload is not relayed: stores and pipelines read their settings once at start"
                .to_owned(),
        ));
    }
    let actor = request
        .actor
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("operator");
    let command = ControlCommand {
        id: uuid::Uuid::new_v4().to_string(),
        action: request.action,
        target: request
            .target
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .unwrap_or(TARGET_ALL)
            .to_owned(),
        value: request.value,
        actor: actor.to_owned(),
        role: ADMIN_ROLE.to_owned(),
        ts: now,
    };
    command
        .validate()
        .map_err(|e| RelayError::Invalid(e.to_string()))?;
    Ok(command)
}

/// The whole outcome in one result.
fn summary(replies: &[ControlReply], missing: &[String], expected: usize) -> ControlResult {
    let refused: Vec<String> = replies
        .iter()
        .filter(|r| r.result.status == ControlStatus::Error)
        .map(|r| {
            format!(
                "{} refused: {}",
                r.member,
                r.result.detail.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    let ok = replies.len() - refused.len();
    let mut detail = format!("{ok} of {expected} members answered ok");
    if expected == 0 {
        detail = "no live member is concerned: nobody carried it out".to_owned();
    }
    for line in &refused {
        detail.push_str("; ");
        detail.push_str(line);
    }
    if !missing.is_empty() {
        detail.push_str(&format!("; no answer from {}", missing.join(", ")));
    }
    let status = if expected > 0 && refused.is_empty() && missing.is_empty() {
        ControlStatus::Ok
    } else {
        ControlStatus::Error
    };
    ControlResult {
        status,
        detail: Some(detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core_contracts::NodeRole;

    fn request(action: ControlAction, value: Option<f64>) -> ControlRequest {
        ControlRequest {
            action,
            target: None,
            value,
            actor: None,
            timeout_sec: None,
        }
    }

    fn reply(member: &str, status: ControlStatus) -> ControlReply {
        ControlReply {
            command_id: "c".into(),
            member: member.into(),
            role: NodeRole::Pipeline,
            action: ControlAction::Pause,
            result: ControlResult {
                status,
                detail: Some("why".into()),
            },
            ts: 1.0,
        }
    }

    #[test]
    fn requests_become_valid_commands_or_clear_refusals() {
        let command = command_of(&request(ControlAction::Pause, None), 5.0).expect("valid");
        assert_eq!(
            (command.target.as_str(), command.actor.as_str()),
            ("all", "operator")
        );
        assert_eq!(command.role, ADMIN_ROLE);
        let error = command_of(&request(ControlAction::SetRate, None), 5.0).expect_err("no rate");
        assert!(
            error.to_string().contains("set_rate needs a rate"),
            "{error}"
        );
        let error = command_of(&request(ControlAction::Reload, None), 5.0).expect_err("reload");
        assert!(
            error.to_string().contains("reload is not relayed"),
            "{error}"
        );
        let error =
            command_of(&request(ControlAction::Resume, Some(3.0)), 5.0).expect_err("a value");
        assert!(
            error.to_string().contains("resume takes no value"),
            "{error}"
        );
    }

    #[test]
    fn the_outcome_is_ok_only_when_everyone_concerned_said_ok() {
        let all_ok = summary(
            &[
                reply("p-1", ControlStatus::Ok),
                reply("p-2", ControlStatus::Ok),
            ],
            &[],
            2,
        );
        assert_eq!(all_ok.status, ControlStatus::Ok);
        assert_eq!(all_ok.detail.as_deref(), Some("2 of 2 members answered ok"));
        let partial = summary(
            &[
                reply("p-1", ControlStatus::Ok),
                reply("s-1", ControlStatus::Error),
            ],
            &["p-2".to_owned()],
            3,
        );
        assert_eq!(partial.status, ControlStatus::Error);
        assert_eq!(
            partial.detail.as_deref(),
            Some("1 of 3 members answered ok; s-1 refused: why; no answer from p-2")
        );
        assert_eq!(summary(&[], &[], 0).status, ControlStatus::Error);
    }
}
