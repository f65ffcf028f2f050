//! `mdp ctl pause|resume|set-rate`: the command-line client of the orchestrator's
//! `POST /api/control`, with `ADMIN_TOKEN` as the bearer token. Prints the outcome and each
//! member's answer; succeeds only when every member concerned answered ok.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context;
use core_contracts::{ControlAction, ControlReply, ControlResult, ControlStatus};
use serde::Deserialize;
use serde_json::json;

use crate::cli::{CtlArgs, CtlCommand};

/// What the orchestrator answers (the part the client prints).
#[derive(Debug, Deserialize)]
pub(crate) struct Outcome {
    replies: Vec<ControlReply>,
    missing: Vec<String>,
    result: ControlResult,
}

/// Sends the command; `Ok(true)` when every member concerned carried it out.
pub async fn run_ctl(args: CtlArgs) -> anyhow::Result<bool> {
    let token = std::env::var("ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .context(
            "ADMIN_TOKEN is not set: mdp ctl sends it to the orchestrator as its bearer token",
        )?;
    let (action, value) = match args.command {
        CtlCommand::Pause => (ControlAction::Pause, None),
        CtlCommand::Resume => (ControlAction::Resume, None),
        CtlCommand::SetRate { rate } => (ControlAction::SetRate, Some(rate)),
    };
    let actor = args.actor.clone().unwrap_or_else(default_actor);
    let base = args.orchestrator.url.trim().trim_end_matches('/');
    anyhow::ensure!(
        base.starts_with("http://") || base.starts_with("https://"),
        "invalid --url {base:?} (MDP_ORCHESTRATOR_URL): expected http://HOST:PORT or https://..."
    );
    let url = format!("{base}/api/control");
    let body = json!({
        "action": action,
        "target": args.target,
        "value": value,
        "actor": actor,
        "timeout_sec": args.timeout,
    });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs_f64(args.timeout + 5.0))
        .build()
        .context("cannot build the HTTP client")?;
    let response = client
        .post(&url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .with_context(|| {
            format!("cannot reach the orchestrator at {base} (MDP_ORCHESTRATOR_URL)")
        })?;
    let status = response.status();
    let text = response
        .text()
        .await
        .with_context(|| format!("no answer from the orchestrator at {base}"))?;
    if !status.is_success() {
        let error = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or(text);
        let hint = if status == reqwest::StatusCode::UNAUTHORIZED {
            " (check ADMIN_TOKEN)"
        } else {
            ""
        };
        anyhow::bail!("the orchestrator at {base} refused: {status}: {error}{hint}");
    }
    let outcome: Outcome = serde_json::from_str(&text)
        .with_context(|| format!("the orchestrator at {base} answered something else: {text}"))?;
    print!("{}", render(action, &args.target, &outcome));
    Ok(outcome.result.status == ControlStatus::Ok)
}

/// `USER@HOSTNAME`, or `operator` when neither is known.
fn default_actor() -> String {
    let user = std::env::var("USER").ok().filter(|u| !u.is_empty());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match (user, host) {
        (Some(user), Some(host)) => format!("{user}@{host}"),
        (Some(user), None) => user,
        _ => "operator".to_owned(),
    }
}

/// The outcome in lines: the whole, then each answer and each silence.
pub(crate) fn render(action: ControlAction, target: &str, outcome: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {target}: {} ({})",
        action.as_str(),
        status_word(outcome.result.status),
        outcome.result.detail.as_deref().unwrap_or("")
    );
    for reply in &outcome.replies {
        let _ = writeln!(
            out,
            "  {} {}: {}: {}",
            reply.role.as_str(),
            reply.member,
            status_word(reply.result.status),
            reply.result.detail.as_deref().unwrap_or("")
        );
    }
    for member in &outcome.missing {
        let _ = writeln!(out, "  {member}: no answer");
    }
    out
}

fn status_word(status: ControlStatus) -> &'static str {
    match status {
        ControlStatus::Ok => "ok",
        ControlStatus::Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_the_whole_then_each_answer() {
        let outcome: Outcome = serde_json::from_str(
            r#"{"command": {}, "replies": [
                {"command_id": "c", "member": "p-1", "role": "pipeline", "action": "pause",
                 "result": {"status": "ok", "detail": "paused"}, "ts": 1.0}],
              "missing": ["s-1"],
              "result": {"status": "error", "detail": "1 of 2 members answered ok"}}"#,
        )
        .expect("an outcome");
        assert_eq!(
            render(ControlAction::Pause, "all", &outcome),
            "pause all: error (1 of 2 members answered ok)\n  pipeline p-1: ok: paused\n  \
             s-1: no answer\n"
        );
    }
}
