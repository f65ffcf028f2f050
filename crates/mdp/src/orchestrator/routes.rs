//! The orchestrator's HTTP routes: the live page (`/`, `/app.js`, `/chart.js`,
//! `/style.css`, embedded in the binary), `GET /api/topology`, `GET /api/history`,
//! `GET /api/events` (server-sent events: a `topology` event at once and every second),
//! `POST /api/control` behind `Authorization: Bearer $ADMIN_TOKEN` (403 when no token is
//! configured, 401 for a wrong one, 400 for a bad request, 404 for an unknown target), and
//! the probes every service serves (`/health`, `/healthz`, `/readyz`, `/metrics`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use pulse::{CancellationToken, Pulse};
use serde_json::json;
use store::config::AdminToken;
use store::http::{HttpState, authorized, probes};

use super::relay::{ControlRequest, Relay, RelayError};
use super::state::Shared;

const INDEX: &str = include_str!("page/index.html");
const APP: &str = include_str!("page/app.js");
const CHART: &str = include_str!("page/chart.js");
const STYLE: &str = include_str!("page/style.css");

/// What the routes need.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    pub(crate) pulse: Pulse,
    pub(crate) shared: Arc<Shared>,
    pub(crate) relay: Relay,
    pub(crate) token: Option<AdminToken>,
    /// Ends the event streams at shutdown.
    pub(crate) shutdown: CancellationToken,
}

/// The router: the page, the API and the probes of `probe_state`.
pub(crate) fn router(api: Api, probe_state: HttpState) -> Router {
    let page = Router::new()
        .route(
            "/",
            get(|| async { file("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { file("text/javascript; charset=utf-8", APP) }),
        )
        .route(
            "/chart.js",
            get(|| async { file("text/javascript; charset=utf-8", CHART) }),
        )
        .route(
            "/style.css",
            get(|| async { file("text/css; charset=utf-8", STYLE) }),
        );
    let api = Router::new()
        .route("/api/topology", get(topology))
        .route("/api/history", get(history))
        .route("/api/events", get(events))
        .route("/api/control", post(control))
        .with_state(api);
    page.merge(api).merge(probes(probe_state))
}

fn file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn topology(State(api): State<Api>) -> Response {
    Json(api.shared.snapshot(api.pulse.clock().unix_seconds())).into_response()
}

async fn history(State(api): State<Api>) -> Response {
    let body = serde_json::to_string(&api.shared.history().view());
    match body {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => failure(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

async fn events(State(api): State<Api>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let snapshots = api.shared.snapshots();
    let stream = futures::stream::unfold(
        (snapshots, api.shutdown, true),
        |(mut snapshots, shutdown, first)| async move {
            if !first {
                tokio::select! {
                    () = shutdown.cancelled() => return None,
                    changed = snapshots.changed() => changed.ok()?,
                }
            }
            let snapshot = Arc::clone(&snapshots.borrow_and_update());
            let event = Event::default()
                .event("topology")
                .json_data(&*snapshot)
                .unwrap_or_else(|_| Event::default().comment("unencodable snapshot"));
            Some((Ok(event), (snapshots, shutdown, false)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

async fn control(
    State(api): State<Api>,
    headers: HeaderMap,
    body: Result<Json<ControlRequest>, JsonRejection>,
) -> Response {
    let Some(token) = &api.token else {
        return failure(
            StatusCode::FORBIDDEN,
            "control is off: the orchestrator was started without ADMIN_TOKEN".to_owned(),
        );
    };
    if !authorized(headers.get(header::AUTHORIZATION), token) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "missing or wrong bearer token" })),
        )
            .into_response();
    }
    let request = match body {
        Ok(Json(request)) => request,
        Err(rejection) => {
            return failure(
                StatusCode::BAD_REQUEST,
                format!(
                    "expected {{\"action\": \"pause\"|\"resume\"|\"set_rate\", \"target\": \
                     \"all\"|ID, \"value\": BARS_PER_SEC}}: {}",
                    rejection.body_text()
                ),
            );
        }
    };
    // on a task of its own: a client that goes away does not cut the wait and the audit
    let relay = api.relay.clone();
    let sent = match tokio::spawn(async move { relay.send(request).await }).await {
        Ok(sent) => sent,
        Err(error) => {
            return failure(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the command failed: {error}"),
            );
        }
    };
    match sent {
        Ok(outcome) => Json(outcome).into_response(),
        Err(error @ RelayError::Invalid(_)) => failure(StatusCode::BAD_REQUEST, error.to_string()),
        Err(error @ RelayError::UnknownTarget(_)) => {
            failure(StatusCode::NOT_FOUND, error.to_string())
        }
        Err(error @ RelayError::Bus(_)) => {
            failure(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
        }
    }
}

fn failure(status: StatusCode, error: String) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}
