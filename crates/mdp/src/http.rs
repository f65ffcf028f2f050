//! Serving a router on a port until shutdown.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use pulse::CancellationToken;
use tokio::task::JoinHandle;

/// Binds `0.0.0.0:port` (0 = a free port), serves `app` until `shutdown` is cancelled and
/// returns the address bound.
pub async fn serve(
    app: Router,
    port: u16,
    shutdown: CancellationToken,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("cannot listen on port {port}"))?;
    let addr = listener.local_addr().context("no local address")?;
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "http server failed");
        }
    });
    tracing::info!(%addr, "serving /metrics and health");
    Ok((addr, task))
}
