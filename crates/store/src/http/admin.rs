//! Admin routes: `POST /admin/pause`, `/admin/resume`, `/admin/reload`, each answering with a
//! `ControlResult` (200 when it went well, 500 otherwise).

use std::sync::Arc;

use async_trait::async_trait;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use core_contracts::{ControlAction, ControlResult, ControlStatus};

/// What the admin routes do; implemented by whatever runs the store (its coordinators).
#[async_trait]
pub trait AdminActions: Send + Sync {
    /// Carries out `action` and says how it went.
    async fn control(&self, action: ControlAction) -> ControlResult;
}

pub(super) async fn run(
    actions: &Arc<dyn AdminActions>,
    action: ControlAction,
) -> (StatusCode, Json<ControlResult>) {
    let result = actions.control(action).await;
    tracing::info!(
        action = action.as_str(),
        ok = result.status == ControlStatus::Ok,
        detail = result.detail.as_deref().unwrap_or(""),
        "admin action"
    );
    let code = match result.status {
        ControlStatus::Ok => StatusCode::OK,
        ControlStatus::Error => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (code, Json(result))
}

pub(super) async fn pause(
    State(actions): State<Arc<dyn AdminActions>>,
) -> (StatusCode, Json<ControlResult>) {
    run(&actions, ControlAction::Pause).await
}

pub(super) async fn resume(
    State(actions): State<Arc<dyn AdminActions>>,
) -> (StatusCode, Json<ControlResult>) {
    run(&actions, ControlAction::Resume).await
}

pub(super) async fn reload(
    State(actions): State<Arc<dyn AdminActions>>,
) -> (StatusCode, Json<ControlResult>) {
    run(&actions, ControlAction::Reload).await
}
