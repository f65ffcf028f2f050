//! `mdp store`: one store of the group `store` on the bars stream. Each bar is held (not
//! acknowledged) until it is written or dead-lettered, so a store killed at any moment loses
//! nothing: another store reclaims its entries after the idle timeout, and the sinks' upsert
//! on the bar key makes the redelivery harmless. `POST /admin/pause|resume` (behind
//! `ADMIN_TOKEN`) stop and restart reading. SIGINT/SIGTERM stop reading, drain the queue to
//! the sink and acknowledge what was recorded.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use core_contracts::{HealthComponent, HealthState};
use pulse::CancellationToken;
use store::config::StoreSettings;
use store::http::{HttpState, router, sink_readiness};
use tokio::sync::mpsc;

use super::ack::{AckCounters, settle_outcomes, spawn_acker, spawn_toucher};
use super::admin::StoreAdmin;
use super::gate::ReadGate;
use super::reader::Reader;
use super::tracker::InFlight;
use super::unique_name;
use crate::cli::StoreArgs;
use crate::telemetry::Metrics;
use crate::wiring::{StoreParts, StoreSide, open_pulse};
use crate::{http, shutdown, sink};

const ACK_GRACE: Duration = Duration::from_secs(10);

/// Runs the store service until SIGINT/SIGTERM.
pub async fn run_store(args: StoreArgs) -> anyhow::Result<()> {
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

    let gate = Arc::new(ReadGate::default());
    let coordinator = side.coordinator.clone();
    let bus = pulse.clone();
    let reader_gate = Arc::clone(&gate);
    let admin = Arc::new(StoreAdmin::new(Arc::clone(&gate), Arc::clone(&held)));
    let state = HttpState::new("store", env!("CARGO_PKG_VERSION"))
        .with_metrics(metrics.registry())
        .with_readiness("sink", sink_readiness(sink))
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
    tracing::info!(
        signal,
        held = held.len(),
        "store stopping: draining the queue"
    );
    reading.cancel();
    if let Err(error) = consume.await {
        tracing::error!(%error, "bar consumer task failed");
    }
    let stats = side.stop().await;
    finish_acks.cancel();
    let acked_in_time = tokio::time::timeout(ACK_GRACE, acker).await.is_ok();
    if !acked_in_time {
        give_up_acks.cancel();
        tracing::warn!("acks not sent in time: those entries will be redelivered");
    }
    background.cancel();
    toucher.abort();
    let _ = server.await;
    tracing::info!(?stats, unacked = held.len(), "store stopped");
    Ok(())
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
