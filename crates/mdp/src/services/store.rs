//! `mdp store`: one store of the group [`STORE_GROUP`] on the bars stream. Each bar is held
//! (not acknowledged) until it is written, so a store killed at any moment loses nothing:
//! another store reclaims its entries after the idle timeout, and the sinks' upsert on the
//! bar key makes the redelivery harmless. SIGINT/SIGTERM stop reading, drain the queue to
//! the sink and acknowledge what was written.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use core_contracts::Bar;
use pulse::{CancellationToken, Pulse, Subscription};
use store::config::StoreSettings;
use store::coordinator::WriteCoordinator;
use store::http::{HttpState, router, sink_readiness};
use tokio::sync::mpsc;

use super::ack::{AckingSink, spawn_acker, spawn_toucher};
use super::tracker::InFlight;
use super::{STORE_GROUP, unique_name};
use crate::cli::StoreArgs;
use crate::telemetry::Metrics;
use crate::wiring::{StoreSide, open_pulse};
use crate::{http, shutdown, sink};

const MAX_BACKOFF: Duration = Duration::from_secs(5);
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
    let raw = sink::open(&choice, &settings, metrics.sink.clone()).await?;
    let acking = Arc::new(AckingSink::new(raw, Arc::clone(&held), ack_tx));
    let background = CancellationToken::new();
    let side = StoreSide::start(
        &coord_id,
        &settings,
        &args.store.dead_letter_file,
        acking.clone(),
        pulse.clone(),
        &metrics,
        background.clone(),
    )?;
    let finish_acks = CancellationToken::new();
    let give_up_acks = CancellationToken::new();
    let acker = spawn_acker(
        pulse.clone(),
        ack_rx,
        metrics.store_acked.clone(),
        finish_acks.clone(),
        give_up_acks.clone(),
    );
    let toucher = spawn_toucher(
        pulse.clone(),
        consumer.clone(),
        Arc::clone(&held),
        background.clone(),
    );

    let coordinator = side.coordinator.clone();
    let bus = pulse.clone();
    let state = HttpState::new("store", env!("CARGO_PKG_VERSION"))
        .with_metrics(metrics.registry())
        .with_readiness("sink", sink_readiness(acking))
        .with_readiness(
            "bus",
            Arc::new(move || {
                let bus = bus.clone();
                async move { super::bus_ready(&bus).await }
            }),
        )
        .with_components(Arc::new(move || vec![coordinator.health_component()]));
    let (addr, server) = http::serve(router(state), args.port, background.clone()).await?;
    tracing::info!(%addr, consumer, coord_id, sink = %choice.url, "store started");

    let reading = CancellationToken::new();
    let consume = tokio::spawn(consume(
        pulse.clone(),
        consumer.clone(),
        side.coordinator.clone(),
        Arc::clone(&held),
        reading.clone(),
    ));
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

/// Reads bars and submits them until `stop` is cancelled; re-subscribes with backoff after a
/// bus error.
async fn consume(
    pulse: Pulse,
    consumer: String,
    coordinator: WriteCoordinator,
    held: Arc<InFlight>,
    stop: CancellationToken,
) {
    let mut backoff = Duration::from_millis(100);
    while !stop.is_cancelled() {
        let error = match pulse
            .subscribe::<Bar>(pulse::stream::BARS, STORE_GROUP, &consumer)
            .await
        {
            Ok(mut sub) => match read(&mut sub, &coordinator, &held, &stop, &mut backoff).await {
                Ok(()) => return,
                Err(error) => error,
            },
            Err(error) => error,
        };
        tracing::warn!(%error, ?backoff, "bar consumer restarting after a bus error");
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn read(
    sub: &mut Subscription<Bar>,
    coordinator: &WriteCoordinator,
    held: &InFlight,
    stop: &CancellationToken,
    backoff: &mut Duration,
) -> Result<(), pulse::BusError> {
    loop {
        let next = tokio::select! {
            biased;
            () = stop.cancelled() => return Ok(()),
            next = sub.try_next() => next?,
        };
        let Some(delivery) = next else { continue };
        *backoff = Duration::from_millis(100);
        let bar = delivery.envelope.payload;
        let id = delivery.envelope.id;
        if !held.hold(&bar, &id) {
            continue;
        }
        let submitted = tokio::select! {
            biased;
            () = stop.cancelled() => None,
            result = coordinator.submit(bar.clone()) => Some(result),
        };
        match submitted {
            Some(Ok(())) => {}
            Some(Err(error)) => {
                held.release(&bar, &id);
                tracing::warn!(%error, id, "bar not accepted; it stays pending");
            }
            None => {
                held.release(&bar, &id);
                return Ok(());
            }
        }
    }
}
