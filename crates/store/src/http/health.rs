//! `/health`, `/healthz` (a `HealthStatus`, always 200 while the process serves) and
//! `/readyz` (a readiness `Probe`, 503 while any check fails).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use core_contracts::{HealthComponent, HealthState, HealthStatus, Probe, ProbeType};
use futures::future::join_all;

use super::HttpState;

/// Runs every check at once; a check past the timeout counts as not ready.
async fn run_checks(state: &HttpState) -> Vec<(String, Option<bool>)> {
    join_all(state.checks.iter().map(|(name, check)| async move {
        let outcome = tokio::time::timeout(state.check_timeout, check.ready())
            .await
            .ok();
        (name.clone(), outcome)
    }))
    .await
}

fn component(name: String, outcome: Option<bool>) -> HealthComponent {
    let (state, detail) = match outcome {
        Some(true) => (HealthState::Healthy, "ready"),
        Some(false) => (HealthState::Unhealthy, "not ready"),
        None => (HealthState::Unhealthy, "check timed out"),
    };
    HealthComponent {
        name,
        state,
        details: [("ready".to_owned(), detail.to_owned())].into(),
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

pub(super) async fn healthz(State(state): State<Arc<HttpState>>) -> Json<HealthStatus> {
    let mut components: Vec<HealthComponent> = run_checks(&state)
        .await
        .into_iter()
        .map(|(name, outcome)| component(name, outcome))
        .collect();
    if let Some(extra) = &state.components {
        components.extend(extra());
    }
    let overall = if components.iter().all(|c| c.state == HealthState::Healthy) {
        HealthState::Healthy
    } else {
        HealthState::Degraded
    };
    Json(HealthStatus {
        service: state.service.clone(),
        state: overall,
        components,
        version: state.version.clone(),
        ts: now(),
    })
}

pub(super) async fn readyz(State(state): State<Arc<HttpState>>) -> (StatusCode, Json<Probe>) {
    let failing: Vec<String> = run_checks(&state)
        .await
        .into_iter()
        .filter_map(|(name, outcome)| match outcome {
            Some(true) => None,
            Some(false) => Some(format!("{name} not ready")),
            None => Some(format!("{name} check timed out")),
        })
        .collect();
    let passed = failing.is_empty();
    let code = if passed {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Probe {
            probe_type: ProbeType::Readiness,
            passed,
            message: (!passed).then(|| failing.join(", ")),
        }),
    )
}
