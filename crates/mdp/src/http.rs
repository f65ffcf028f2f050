//! Serving a router on an address until shutdown, and the address a service listens on.
//!
//! The services listen on every interface by default (`0.0.0.0:8081` for a store,
//! `0.0.0.0:8082` for a pipeline): Prometheus scrapes them from another machine, and the
//! admin routes are off unless `ADMIN_TOKEN` is set. `mdp run` is a local demonstration and
//! listens on `127.0.0.1` only. `--listen IP:PORT` chooses otherwise.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use axum::Router;
use pulse::CancellationToken;
use tokio::task::JoinHandle;

/// `listen` when given, else `port` on every interface.
pub(crate) fn service_addr(listen: Option<SocketAddr>, port: u16) -> SocketAddr {
    listen.unwrap_or_else(|| SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)))
}

/// Binds `addr` (port 0 = a free port), serves `app` until `shutdown` is cancelled and
/// returns the address bound.
pub(crate) async fn serve(
    app: Router,
    addr: SocketAddr,
    shutdown: CancellationToken,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
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
