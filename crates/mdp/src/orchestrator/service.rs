//! Running the orchestrator: opens the bus, starts the watchers and the HTTP server, and
//! stops on SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pulse::CancellationToken;
use store::http::HttpState;
use tokio::task::JoinSet;

use super::relay::Relay;
use super::routes::{Api, router};
use super::settings::OrchestratorSettings;
use super::state::Shared;
use super::topology::Topology;
use super::watch::spawn_watchers;
use crate::cli::OrchestratorArgs;
use crate::telemetry::{Metrics, Role};
use crate::wiring::{BusUser, open_pulse};
use crate::{http, shutdown};

/// How much history the page's charts get, seconds.
const HISTORY_WINDOW: f64 = 600.0;

/// Runs the orchestrator until SIGINT/SIGTERM; winding down takes at most `grace`.
pub async fn run_orchestrator(args: OrchestratorArgs, grace: Duration) -> anyhow::Result<()> {
    let settings = OrchestratorSettings::from_env().context("invalid orchestrator settings")?;
    let metrics = Metrics::default();
    let pulse = open_pulse(
        args.bus,
        metrics.pulse.clone(),
        BusUser::Shared("mdp orchestrator"),
    )
    .await?;
    let version = env!("CARGO_PKG_VERSION");
    let now = pulse.clock().unix_seconds();
    let topology = Topology::new(&pulse.config().namespace, settings.windows, version);
    let shared = Arc::new(Shared::new(topology, HISTORY_WINDOW, now));
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();
    spawn_watchers(&mut tasks, &pulse, &shared, &stop);

    let relay = Relay::new(pulse.clone(), Arc::clone(&shared), settings.reply_timeout);
    let ready = {
        let bus = pulse.clone();
        Arc::new(move || {
            let bus = bus.clone();
            async move { bus.is_ready().await }
        })
    };
    let probe_state = HttpState::new("orchestrator", version)
        .with_metrics(metrics.registry(Role::Orchestrator))
        .with_readiness("bus", ready);
    let control = settings.token.is_some();
    let api = Api {
        pulse: pulse.clone(),
        shared,
        relay,
        token: settings.token,
        shutdown: stop.clone(),
    };
    let serving = CancellationToken::new();
    let addr = http::service_addr(args.listen, args.port);
    let (addr, server) = match http::serve(router(api, probe_state), addr, serving.clone()).await {
        Ok(serving) => serving,
        Err(error) => {
            stop.cancel();
            tasks.shutdown().await;
            return Err(error);
        }
    };
    tracing::info!(
        %addr,
        namespace = pulse.config().namespace,
        control,
        "orchestrator started: the page is at http://{addr}/"
    );

    let signal = shutdown::signal().await;
    tracing::info!(signal, "orchestrator stopping");
    stop.cancel();
    serving.cancel();
    let wind_down = async {
        while tasks.join_next().await.is_some() {}
        let _ = server.await;
    };
    if tokio::time::timeout(grace, wind_down).await.is_err() {
        tracing::warn!(
            grace_s = grace.as_secs_f64(),
            "orchestrator shutdown took longer than the grace period"
        );
    }
    Ok(())
}
