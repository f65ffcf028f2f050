//! Puts the routes together.

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use super::{HttpState, admin, auth, health, metrics};

/// The store's HTTP routes over `state`: the [`probes`] and, when a token is configured, the
/// admin routes; without one they answer 404.
///
/// ```
/// use store::http::{HttpState, router};
/// let app: axum::Router = router(HttpState::new("store", env!("CARGO_PKG_VERSION")));
/// # let _ = app;
/// ```
pub fn router(state: HttpState) -> Router {
    let admin = state.admin.clone();
    let mut app = probes(state);
    if let Some((token, actions)) = admin {
        app = app.merge(
            Router::new()
                .route("/admin/pause", post(admin::pause))
                .route("/admin/resume", post(admin::resume))
                .route("/admin/reload", post(admin::reload))
                .with_state(actions)
                .layer(from_fn_with_state(token, auth::require_token)),
        );
    }
    app
}

/// The routes every service of the loop serves, whatever it is: `/health` and `/healthz`
/// (identity, readiness checks and health components), `/readyz` and `/metrics`. The admin
/// routes of `state` are not among them: a service that is not a store builds its own router
/// on these.
pub fn probes(state: HttpState) -> Router {
    let registry = state.registry.clone();
    let state = Arc::new(state);
    Router::new()
        .route("/health", get(health::healthz))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state)
        .merge(
            Router::new()
                .route("/metrics", get(metrics::metrics))
                .with_state(registry),
        )
}
