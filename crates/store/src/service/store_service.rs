//! [`StoreService`]: one store of the group [`STORE_GROUP`] on the bars stream, embedded in
//! a program in a few lines. Each bar is held (not acknowledged) until it is written or
//! dead-lettered, so a store killed at any moment loses nothing: another store of the group
//! reclaims its entries after the idle timeout (or this consumer re-reads them when it
//! starts again), and the sinks' upsert on the bar key makes the redelivery harmless.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use core_contracts::{ControlAction, ControlResult, HealthComponent, HealthState, HealthStatus};
use pulse::stream::{BARS, STORE_GROUP};
use pulse::{CancellationToken, Pulse};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::DropGuard;

use super::ack::{settle_outcomes, spawn_acker, spawn_toucher};
use super::admin::StoreAdmin;
use super::backlog::{spawn_backlog_gauge, warn_if_volatile};
use super::gate::ReadGate;
use super::in_flight::InFlight;
use super::reader::{ReadCounts, Reader};
use super::side::{StoreParts, StoreSide};
use crate::config::StoreSettings;
use crate::coordinator::{CoordinatorError, CoordinatorStats, Leftover, WriteCoordinator};
use crate::http::{AdminActions, HttpState, sink_readiness};
use crate::sink::Sink;
use crate::telemetry::{CoordinatorMetrics, ServiceMetrics};

/// The dead-letter file of a service built without one.
pub const DEFAULT_DEAD_LETTER_FILE: &str = "mdp-dead-letters.ndjson";

/// The last acks get at least this long, even when the grace period is spent.
const ACK_AT_LEAST: Duration = Duration::from_secs(1);

/// What a [`StoreService`] is built from; [`StoreServiceBuilder::start`] starts it.
pub struct StoreServiceBuilder {
    settings: StoreSettings,
    sink: Arc<dyn Sink>,
    pulse: Pulse,
    consumer: Option<String>,
    coord_id: Option<String>,
    dead_letters: PathBuf,
    coordinator_metrics: CoordinatorMetrics,
    metrics: ServiceMetrics,
}

impl StoreServiceBuilder {
    /// The consumer name in the group (default `store-{pid}-{random}`). A store restarted
    /// under the same name re-reads the entries it held when it stopped, at once.
    pub fn consumer(mut self, name: impl Into<String>) -> Self {
        self.consumer = Some(name.into());
        self
    }

    /// The coordinator id in feedback events and metrics (default: the consumer name).
    pub fn coord_id(mut self, id: impl Into<String>) -> Self {
        self.coord_id = Some(id.into());
        self
    }

    /// The dead-letter file (default [`DEFAULT_DEAD_LETTER_FILE`]).
    pub fn dead_letters(mut self, path: impl Into<PathBuf>) -> Self {
        self.dead_letters = path.into();
        self
    }

    /// The coordinator's metrics, to register them in the program's registry.
    pub fn coordinator_metrics(mut self, metrics: CoordinatorMetrics) -> Self {
        self.coordinator_metrics = metrics;
        self
    }

    /// The acknowledgement counters, to register them in the program's registry.
    pub fn metrics(mut self, metrics: ServiceMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Creates the group on the bars stream and starts the coordinator, its feedback on the
    /// bus, the acker, the keep-alive and the reader: from here on the service takes bars
    /// from the bus.
    pub async fn start(self) -> Result<StoreService, CoordinatorError> {
        let Self {
            settings,
            sink,
            pulse,
            consumer,
            coord_id,
            dead_letters,
            coordinator_metrics,
            metrics,
        } = self;
        let consumer = consumer.unwrap_or_else(|| unique_name("store"));
        let coord_id = coord_id.unwrap_or_else(|| consumer.clone());
        warn_if_volatile(&pulse).await;
        // The group exists once `start` returns, so its backlog is measured from then on
        // (the reader creates it too, and retries, if the bus is down now).
        let bars_key = pulse.stream(BARS).key().to_owned();
        if let Err(error) = pulse.backend().ensure_group(&bars_key, STORE_GROUP).await {
            tracing::warn!(%error, stream = bars_key, "cannot create the store group yet");
        }
        let held = Arc::new(InFlight::default());
        let (ack_tx, ack_rx) = mpsc::unbounded_channel();
        // Dropping the service without `stop_within` cancels both: nothing keeps reading,
        // and the keep-alive stops, so another store reclaims the entries left in hand.
        let on_drop = CancellationToken::new();
        let background = on_drop.child_token();
        let side = StoreSide::start_with(StoreParts {
            coord_id: &coord_id,
            settings: &settings,
            dead_letters: &dead_letters,
            sink: Arc::clone(&sink),
            pulse: pulse.clone(),
            metrics: coordinator_metrics,
            shutdown: background.clone(),
            on_outcome: Some(Box::new(settle_outcomes(Arc::clone(&held), ack_tx))),
        })?;
        let finish_acks = CancellationToken::new();
        let give_up_acks = CancellationToken::new();
        let acker = spawn_acker(
            pulse.clone(),
            ack_rx,
            metrics.clone(),
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
        let counts = Arc::new(ReadCounts::default());
        let reading = on_drop.child_token();
        let reader = tokio::spawn(
            Reader {
                pulse: pulse.clone(),
                consumer: consumer.clone(),
                coordinator: side.coordinator.clone(),
                held: Arc::clone(&held),
                gate: Arc::clone(&gate),
                counts: Arc::clone(&counts),
            }
            .run(reading.clone()),
        );
        tracing::info!(
            consumer,
            coord_id,
            group = STORE_GROUP,
            "store service reading"
        );
        Ok(StoreService {
            side,
            settings,
            pulse,
            consumer,
            held,
            gate,
            counts,
            metrics,
            reading,
            reader,
            acks: Acks {
                task: acker,
                finish: finish_acks,
                give_up: give_up_acks,
            },
            background,
            helpers: [toucher, backlog],
            _on_drop: on_drop.drop_guard(),
        })
    }
}

impl std::fmt::Debug for StoreServiceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreServiceBuilder")
            .field("sink", &self.sink.name())
            .field("consumer", &self.consumer)
            .field("coord_id", &self.coord_id)
            .field("dead_letters", &self.dead_letters)
            .finish_non_exhaustive()
    }
}

/// The acker task and the two ways to end it.
#[derive(Debug)]
struct Acks {
    task: JoinHandle<()>,
    finish: CancellationToken,
    give_up: CancellationToken,
}

/// A running bus-fed store. [`StoreService::stop_within`] drains it; dropping it instead
/// stops reading and the keep-alive at once, leaving what it holds pending on the bus (as
/// a kill would).
#[derive(Debug)]
pub struct StoreService {
    side: StoreSide,
    settings: StoreSettings,
    pulse: Pulse,
    consumer: String,
    held: Arc<InFlight>,
    gate: Arc<ReadGate>,
    counts: Arc<ReadCounts>,
    metrics: ServiceMetrics,
    reading: CancellationToken,
    reader: JoinHandle<()>,
    acks: Acks,
    background: CancellationToken,
    helpers: [JoinHandle<()>; 2],
    _on_drop: DropGuard,
}

/// What a store service did, at the end of [`StoreService::stop_within`] or so far
/// ([`StoreService::report`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceReport {
    /// The coordinator's counters.
    pub stats: CoordinatorStats,
    /// Entries taken from the bus.
    pub taken: u64,
    /// Of those, entries delivered before (reclaimed, or left pending by an earlier run).
    pub redelivered: u64,
    /// Entries acknowledged (their bars written or dead-lettered).
    pub acked: u64,
    /// Of those, entries whose bars were dead-lettered.
    pub dead_lettered: u64,
    /// Entries still held: not written (at the end of a stop: left pending on the bus, for
    /// another store of the group or the next run of this consumer).
    pub unwritten: u64,
}

impl ServiceReport {
    fn of(
        stats: CoordinatorStats,
        counts: &ReadCounts,
        metrics: &ServiceMetrics,
        held: &InFlight,
    ) -> Self {
        Self {
            stats,
            taken: counts.taken(),
            redelivered: counts.redelivered(),
            acked: metrics.acked.get(),
            dead_lettered: metrics.dead_lettered.get(),
            unwritten: held.len() as u64,
        }
    }
}

impl StoreService {
    /// A service of `settings` writing to `sink`, reading bars from `pulse`.
    pub fn builder(
        settings: StoreSettings,
        sink: Arc<dyn Sink>,
        pulse: Pulse,
    ) -> StoreServiceBuilder {
        StoreServiceBuilder {
            settings,
            sink,
            pulse,
            consumer: None,
            coord_id: None,
            dead_letters: PathBuf::from(DEFAULT_DEAD_LETTER_FILE),
            coordinator_metrics: CoordinatorMetrics::default(),
            metrics: ServiceMetrics::default(),
        }
    }

    /// The consumer name in the group.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The coordinator the bars go to.
    pub fn coordinator(&self) -> &WriteCoordinator {
        &self.side.coordinator
    }

    /// Stops taking new bars from the bus (those in hand are still written and
    /// acknowledged); false when already paused.
    pub fn pause(&self) -> bool {
        self.gate.pause()
    }

    /// Takes bars from the bus again; false when it was not paused.
    pub fn resume(&self) -> bool {
        self.gate.resume()
    }

    /// Carries out an operator's `action` as `POST /admin/<action>` would (pause and resume
    /// of intake; set_rate and reload are refused with the reason), except that a pause
    /// answers after at most a second: whether the reader has parked by then is in the
    /// answer, and it parks as soon as the bars in its hand are queued.
    pub async fn control(&self, action: ControlAction) -> ControlResult {
        StoreAdmin::new(Arc::clone(&self.gate), Arc::clone(&self.held))
            .parking_within(Duration::from_secs(1))
            .control(action)
            .await
    }

    /// The store's status report at `ts`: the coordinator's health (queue, level, circuit,
    /// writability, counters) and the reader's (paused or not), as `service: "store"` of
    /// `version`. It asks the sink nothing: a report never waits behind a write.
    pub fn status(&self, version: &str, ts: f64) -> HealthStatus {
        let components = vec![
            self.side.coordinator.health_component(),
            reader_component(&self.gate),
        ];
        let state = components
            .iter()
            .map(|c| c.state)
            .max_by_key(|state| match state {
                HealthState::Healthy => 0,
                HealthState::Degraded => 1,
                HealthState::Unhealthy => 2,
            })
            .unwrap_or(HealthState::Healthy);
        HealthStatus {
            service: "store".to_owned(),
            state,
            components,
            version: version.to_owned(),
            ts,
        }
    }

    /// What the service did so far.
    pub fn report(&self) -> ServiceReport {
        ServiceReport::of(
            self.side.coordinator.stats(),
            &self.counts,
            &self.metrics,
            &self.held,
        )
    }

    /// The health of the coordinator and of the bus reader (degraded while paused).
    pub fn health_components(&self) -> Vec<HealthComponent> {
        vec![
            self.side.coordinator.health_component(),
            reader_component(&self.gate),
        ]
    }

    /// The HTTP state of this service for [`crate::http::router`]: readiness of the sink,
    /// the coordinator and the bus, the health components, and `/admin/pause|resume`
    /// behind `ADMIN_TOKEN` (off without one). Metrics are the program's to add.
    pub fn http_state(&self, service: &str, version: &str) -> HttpState {
        let coordinator = self.side.coordinator.clone();
        let writable = self.side.coordinator.clone();
        let bus = self.pulse.clone();
        let gate = Arc::clone(&self.gate);
        let admin = Arc::new(StoreAdmin::new(
            Arc::clone(&self.gate),
            Arc::clone(&self.held),
        ));
        HttpState::new(service, version)
            .with_readiness("sink", sink_readiness(Arc::clone(&self.side.sink)))
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
                    async move { bus.is_ready().await }
                }),
            )
            .with_components(Arc::new(move || {
                vec![coordinator.health_component(), reader_component(&gate)]
            }))
            .with_admin(self.settings.admin_token.clone(), admin)
    }

    /// Drains the service: stops reading, writes what it holds for at most `grace`,
    /// acknowledges what was recorded (the acks get at least a second more), says goodbye
    /// on the bus and closes the sink. What could not be written in time stays pending on
    /// the bus and is counted in [`ServiceReport::unwritten`].
    pub async fn stop_within(self, grace: Duration) -> ServiceReport {
        let deadline = tokio::time::Instant::now() + grace;
        tracing::info!(
            held = self.held.len(),
            grace_s = grace.as_secs_f64(),
            "store stopping: writing what it holds"
        );
        self.reading.cancel();
        if let Err(error) = self.reader.await {
            tracing::error!(%error, "bar reader task failed");
        }
        let stats = self.side.stop_within(grace, Leftover::Abandon).await;
        self.acks.finish.cancel();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if tokio::time::timeout(left.max(ACK_AT_LEAST), self.acks.task)
            .await
            .is_err()
        {
            self.acks.give_up.cancel();
            tracing::warn!("acks not sent in time: those entries will be redelivered");
        }
        self.background.cancel();
        for helper in &self.helpers {
            helper.abort();
        }
        let report = ServiceReport::of(stats, &self.counts, &self.metrics, &self.held);
        if report.unwritten > 0 {
            tracing::warn!(
                taken = report.taken,
                redelivered = report.redelivered,
                acked = report.acked,
                dead_lettered = report.dead_lettered,
                unwritten = report.unwritten,
                "store stopped: {} bars not written, left pending on the bus for another \
                 store of the group",
                report.unwritten
            );
        } else {
            tracing::info!(
                taken = report.taken,
                redelivered = report.redelivered,
                acked = report.acked,
                dead_lettered = report.dead_lettered,
                "store stopped: every bar it took is written"
            );
        }
        report
    }
}

/// A name unique to this process: `{role}-{pid}-{random}`.
pub fn unique_name(role: &str) -> String {
    format!(
        "{role}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
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
