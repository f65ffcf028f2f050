//! The pipeline's HTTP routes: `/health` and `/healthz` (its rate component), `/readyz` (the
//! bus answers and a store is known) and `/metrics`. They are the probes every service of the
//! loop serves ([`store::http::probes`]); a pipeline has no store admin routes.

use std::sync::Arc;

use axum::Router;
use pipeline::FeedbackHandler;
use prometheus_client::registry::Registry;
use pulse::Pulse;
use store::http::{ComponentsFn, HttpState, probes};

/// The pipeline's router over its metrics `registry`, its bus, its feedback `handler` (ready
/// once a store is known) and the health components `health` reports.
pub(crate) fn router(
    registry: Arc<Registry>,
    pulse: Pulse,
    handler: Arc<FeedbackHandler>,
    health: ComponentsFn,
) -> Router {
    let state = HttpState::new("pipeline", env!("CARGO_PKG_VERSION"))
        .with_metrics(registry)
        .with_readiness(
            "bus",
            Arc::new(move || {
                let bus = pulse.clone();
                async move { bus.is_ready().await }
            }),
        )
        .with_readiness(
            "store",
            Arc::new(move || {
                let handler = Arc::clone(&handler);
                async move { handler.store_known().await }
            }),
        )
        .with_components(health);
    probes(state)
}
