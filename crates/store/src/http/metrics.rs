//! `GET /metrics`: the registry in OpenMetrics text.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::registry::Registry;

/// The OpenMetrics content type.
pub(super) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(super) async fn metrics(State(registry): State<Option<Arc<Registry>>>) -> Response {
    let mut body = String::new();
    let encoded = match &registry {
        Some(registry) => prometheus_client::encoding::text::encode(&mut body, registry),
        None => {
            body.push_str("# EOF\n");
            Ok(())
        }
    };
    match encoded {
        Ok(()) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode metrics: {e}\n"),
        )
            .into_response(),
    }
}
