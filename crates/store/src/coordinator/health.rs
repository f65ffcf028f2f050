//! The coordinator's health: one component for itself and one for its sink.

use std::collections::BTreeMap;

use core_contracts::{BackpressureLevel, HealthComponent, HealthState, HealthStatus};

use super::WriteCoordinator;

impl WriteCoordinator {
    /// The coordinator as a health component named `coordinator:<coord_id>`: unhealthy when
    /// it cannot write (stopped, no live worker, the breaker open or half-open, or the
    /// dead-letter file failing), degraded when bars were dead-lettered or the level is HARD,
    /// healthy otherwise. Details carry depth, capacity, level, circuit, writability and
    /// counters.
    pub fn health_component(&self) -> HealthComponent {
        let inner = &self.inner;
        let circuit = self.circuit_state();
        let level = self.current_level();
        let alive = self.workers_alive();
        let stats = self.stats();
        let writable = self.is_writable();
        let state = if !writable || alive <= 0 {
            HealthState::Unhealthy
        } else if stats.dead_lettered > 0 || level == BackpressureLevel::Hard {
            HealthState::Degraded
        } else {
            HealthState::Healthy
        };
        let details: BTreeMap<String, String> = [
            ("queue_depth", self.queue_depth().to_string()),
            ("capacity", inner.queue.capacity().to_string()),
            ("level", level.as_str().to_owned()),
            ("circuit", circuit.as_str().to_owned()),
            ("writable", writable.to_string()),
            (
                "dead_letter_failing",
                self.is_dead_letter_failing().to_string(),
            ),
            ("workers_alive", alive.to_string()),
            ("workers", inner.config.workers.to_string()),
            ("submitted", stats.submitted.to_string()),
            ("written", stats.written.to_string()),
            ("dead_lettered", stats.dead_lettered.to_string()),
            ("lost", stats.lost.to_string()),
            ("worker_restarts", stats.worker_restarts.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        HealthComponent {
            name: format!("coordinator:{}", self.coord_id()),
            state,
            details,
        }
    }

    /// The health of the store as this coordinator sees it: itself and its sink.
    pub async fn health(&self) -> HealthStatus {
        let sink = &self.inner.shared.sink;
        let sink_state = if sink.ready().await {
            HealthState::Healthy
        } else {
            HealthState::Unhealthy
        };
        let components = vec![
            self.health_component(),
            HealthComponent {
                name: "sink".to_owned(),
                state: sink_state,
                details: BTreeMap::from([("sink".to_owned(), sink.name().to_owned())]),
            },
        ];
        let state = components
            .iter()
            .map(|c| c.state)
            .max_by_key(|s| match s {
                HealthState::Healthy => 0,
                HealthState::Degraded => 1,
                HealthState::Unhealthy => 2,
            })
            .unwrap_or(HealthState::Healthy);
        HealthStatus {
            service: "store".to_owned(),
            state,
            components,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ts: self.inner.shared.clock.unix_seconds(),
        }
    }
}
