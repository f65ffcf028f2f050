//! `mdp store`: one [`StoreService`] of the group `store` on the bars stream, with the sink
//! the flags and environment name, its HTTP endpoints (`POST /admin/pause|resume` behind
//! `ADMIN_TOKEN`), a periodic summary in the log and the signals: SIGINT/SIGTERM drain it
//! for at most the grace period; what could not be written in time stays pending on the bus
//! (redelivered to another store) and is counted in the last log line and the exit status.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use core_contracts::{NodeRole, TARGET_ALL};
use pulse::CancellationToken;
use pulse::stream::{BARS, STORE_GROUP};
use store::config::StoreSettings;
use store::http::router;
use store::service::{StoreService, unique_name};

use super::summary::{self, Reading, Service};
use super::{obey, status};
use crate::cli::{StoreArgs, summary_period};
use crate::telemetry::{Metrics, Role};
use crate::wiring::{BusUser, open_pulse, prime_metrics};
use crate::{http, shutdown, sink};

/// Runs the store service until SIGINT/SIGTERM; returns how many bars it held but could not
/// write within the `grace` period (their entries stay pending on the bus).
pub async fn run_store(args: StoreArgs, grace: Duration) -> anyhow::Result<u64> {
    let settings = StoreSettings::from_env().context("invalid store settings")?;
    let choice =
        sink::SinkChoice::new(args.store.sink.as_deref(), args.store.sink_rate, &settings)?;
    let metrics = Metrics::default();
    let pulse = open_pulse(
        args.bus,
        metrics.pulse.clone(),
        BusUser::Shared("mdp store"),
    )
    .await?;
    let consumer = args
        .consumer
        .clone()
        .unwrap_or_else(|| unique_name("store"));
    let coord_id = args
        .store
        .coord_id
        .clone()
        .unwrap_or_else(|| consumer.clone());
    anyhow::ensure!(
        coord_id != TARGET_ALL,
        "invalid --coord-id {coord_id:?}: {TARGET_ALL:?} is the target of every member in mdp ctl"
    );
    let sink = sink::open(&choice, &settings, metrics.sink.clone()).await?;
    let admin = settings.admin_token.is_some();
    let service = StoreService::builder(settings, sink, pulse.clone())
        .consumer(&consumer)
        .coord_id(&coord_id)
        .dead_letters(&args.store.dead_letter_file)
        .coordinator_metrics(metrics.coordinator.clone())
        .metrics(metrics.store.clone())
        .start()
        .await
        .context("cannot start the write coordinator")?;
    prime_metrics(&pulse, &[pulse::stream::FEEDBACK]).await;
    let state = service
        .http_state("store", env!("CARGO_PKG_VERSION"))
        .with_metrics(metrics.registry(Role::Store));
    let serving = CancellationToken::new();
    let addr = http::service_addr(args.listen, args.port);
    let (addr, server) = match http::serve(router(state), addr, serving.clone()).await {
        Ok(serving) => serving,
        Err(error) => {
            // Bars may already be in hand: write and acknowledge them before giving up.
            service.stop_within(grace).await;
            return Err(error);
        }
    };
    tracing::info!(%addr, consumer, coord_id, sink = %choice.url, admin, "store started");
    let service = Arc::new(service);
    let member_tasks = CancellationToken::new();
    let member = obey::Member {
        id: coord_id,
        role: NodeRole::Store,
    };
    let clock = Arc::clone(pulse.clock());
    let reporting = {
        let service = Arc::clone(&service);
        status::spawn_status(
            pulse.clone(),
            member.id.clone(),
            Duration::from_secs_f64(args.status_every),
            member_tasks.clone(),
            move || {
                let service = Arc::clone(&service);
                let status = service.status(env!("CARGO_PKG_VERSION"), clock.unix_seconds());
                async move { status }
            },
        )
    };
    let obeying = {
        let service = Arc::clone(&service);
        obey::spawn_obey(
            pulse.clone(),
            member,
            member_tasks.clone(),
            move |command| {
                let service = Arc::clone(&service);
                async move { service.control(command.action).await }
            },
        )
    };

    let coordinator = service.coordinator().clone();
    let summaries = summary::spawn(
        Service::Store,
        summary_period(args.log_summary_every),
        move || {
            let coordinator = coordinator.clone();
            let pulse = pulse.clone();
            async move {
                Reading {
                    bars: coordinator.stats().written,
                    level: coordinator.current_level().as_str(),
                    scale: None,
                    backlog: pulse
                        .backlog(BARS, STORE_GROUP)
                        .await
                        .ok()
                        .map(|b| b.total()),
                    queue: Some(coordinator.queue_depth()),
                }
            }
        },
        serving.clone(),
    );

    let signal = shutdown::signal().await;
    tracing::info!(signal, "store stopping");
    if let Some(summaries) = summaries {
        summaries.abort();
    }
    member_tasks.cancel();
    status::join_members(reporting, obeying).await;
    let Ok(service) = Arc::try_unwrap(service) else {
        anyhow::bail!("the store is still in use at shutdown: its bars stay pending on the bus");
    };
    let report = service.stop_within(grace).await;
    serving.cancel();
    let _ = server.await;
    Ok(report.unwritten)
}
