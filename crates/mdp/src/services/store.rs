//! `mdp store`: one store of the group `store` on the bars stream. Each bar is held (not
//! acknowledged) until it is written or dead-lettered, so a store killed at any moment loses
//! nothing: another store reclaims its entries after the idle timeout, and the sinks' upsert
//! on the bar key makes the redelivery harmless. `POST /admin/pause|resume` (behind
//! `ADMIN_TOKEN`) stop and restart reading. SIGINT/SIGTERM stop reading, write what is held
//! for at most the grace period and acknowledge what was recorded; what could not be written
//! in time stays pending on the bus (redelivered to another store) and is counted in the
//! last log line and the exit status.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use core_contracts::{HealthComponent, HealthState};
use pulse::CancellationToken;
use store::config::StoreSettings;
use store::coordinator::Leftover;
use store::http::{HttpState, router, sink_readiness};
use tokio::sync::mpsc;

use super::ack::{AckCounters, settle_outcomes, spawn_acker, spawn_toucher};
use super::admin::StoreAdmin;
use super::backlog::{spawn_backlog_gauge, warn_if_volatile};
use super::gate::ReadGate;
use super::reader::Reader;
use super::tracker::InFlight;
use super::unique_name;
use crate::cli::StoreArgs;
use crate::telemetry::Metrics;
use crate::wiring::{StoreParts, StoreSide, open_pulse};
use crate::{http, shutdown, sink};

/// The last acks get at least this long, even when the grace period is spent.
const ACK_AT_LEAST: Duration = Duration::from_secs(1);

/// Runs the store service until SIGINT/SIGTERM; returns how many bars it held but could not
/// write within the `grace` period (their entries stay pending on the bus).
pub async fn run_store(args: StoreArgs, grace: Duration) -> anyhow::Result<u64> {
    let settings = StoreSettings::from_env().context("invalid store settings")?;
    let choice =
        sink::SinkChoice::new(args.store.sink.as_deref(), args.store.sink_rate, &settings)?;
    let metrics = Metrics::default();
    let pulse = open_pulse(args.bus, metrics.pulse.clone()).await?;
    let consumer = args
        .consumer
        .clone()
        .unwrap_or_else(|| unique_name("store"));
    let coord_id = args
        .store
        .coord_id
        .clone()
        .unwrap_or_else(|| consumer.clone());

    warn_if_volatile(&pulse).await;
    let held = Arc::new(InFlight::default());
    let (ack_tx, ack_rx) = mpsc::unbounded_channel();
    let sink = sink::open(&choice, &settings, metrics.sink.clone()).await?;
    let background = CancellationToken::new();
    let side = StoreSide::start_with(StoreParts {
        coord_id: &coord_id,
        settings: &settings,
        dead_letters: &args.store.dead_letter_file,
        sink: Arc::clone(&sink),
        pulse: pulse.clone(),
        metrics: &metrics,
        shutdown: background.clone(),
        on_outcome: Some(Box::new(settle_outcomes(Arc::clone(&held), ack_tx))),
    })?;
    let finish_acks = CancellationToken::new();
    let give_up_acks = CancellationToken::new();
    let acker = spawn_acker(
        pulse.clone(),
        ack_rx,
        AckCounters {
            acked: metrics.store_acked.clone(),
            dead_lettered: metrics.store_dead_lettered.clone(),
        },
        finish_acks.clone(),
        give_up_acks.clone(),
    );
    let toucher = spawn_toucher(
        pulse.clone(),
        consumer.clone(),
        Arc::clone(&held),
        background.clone(),
    );

    let backlog = spawn_backlog_gauge(pulse.clone(), background.clone());
    let gate = Arc::new(ReadGate::default());
    let coordinator = side.coordinator.clone();
    let writable = side.coordinator.clone();
    let bus = pulse.clone();
    let reader_gate = Arc::clone(&gate);
    let admin = Arc::new(StoreAdmin::new(Arc::clone(&gate), Arc::clone(&held)));
    let state = HttpState::new("store", env!("CARGO_PKG_VERSION"))
        .with_metrics(metrics.registry())
        .with_readiness("sink", sink_readiness(sink))
        .with_readiness(
            "coordinator",
            Arc::new(move || {
                let ready = writable.is_writable();
                async move { ready }
            }),
        )
        .with_readiness(
            "bus",
            Arc::new(move || {
                let bus = bus.clone();
                async move { super::bus_ready(&bus).await }
            }),
        )
        .with_components(Arc::new(move || {
            vec![
                coordinator.health_component(),
                reader_component(&reader_gate),
            ]
        }))
        .with_admin(settings.admin_token.clone(), admin);
    let (addr, server) = http::serve(router(state), args.port, background.clone()).await?;
    let admin = settings.admin_token.is_some();
    tracing::info!(%addr, consumer, coord_id, sink = %choice.url, admin, "store started");

    let reading = CancellationToken::new();
    let reader = Reader {
        pulse: pulse.clone(),
        consumer: consumer.clone(),
        coordinator: side.coordinator.clone(),
        held: Arc::clone(&held),
        gate,
    };
    let consume = tokio::spawn(reader.run(reading.clone()));
    let signal = shutdown::signal().await;
    let deadline = tokio::time::Instant::now() + grace;
    tracing::info!(
        signal,
        held = held.len(),
        ?grace,
        "store stopping: writing what it holds"
    );
    reading.cancel();
    if let Err(error) = consume.await {
        tracing::error!(%error, "bar consumer task failed");
    }
    let stats = side.stop_within(grace, Leftover::Abandon).await;
    finish_acks.cancel();
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    if tokio::time::timeout(left.max(ACK_AT_LEAST), acker)
        .await
        .is_err()
    {
        give_up_acks.cancel();
        tracing::warn!("acks not sent in time: those entries will be redelivered");
    }
    background.cancel();
    toucher.abort();
    backlog.abort();
    let _ = server.await;
    let unwritten = held.len() as u64;
    if unwritten > 0 {
        tracing::warn!(
            ?stats,
            unwritten,
            "store stopped: {unwritten} bars not written, left pending on the bus for \
             another store of the group"
        );
    } else {
        tracing::info!(?stats, "store stopped: every bar it took is written");
    }
    Ok(unwritten)
}

/// The reader's health: degraded while an operator has paused it.
fn reader_component(gate: &ReadGate) -> HealthComponent {
    let paused = gate.is_paused();
    HealthComponent {
        name: "bus-reader".to_owned(),
        state: if paused {
            HealthState::Degraded
        } else {
            HealthState::Healthy
        },
        details: [("paused".to_owned(), paused.to_string())].into(),
    }
}
