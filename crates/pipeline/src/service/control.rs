//! What a running pipeline does with an operator's command (`mdp ctl`, relayed by the
//! orchestrator) and how it reports itself: `pause` holds its rate at 0 whatever the
//! feedback says until `resume`, `set_rate` changes its base rate (feedback still scales
//! it), `reload` is refused; [`PipelineService::status`] is the report it publishes.

use std::collections::BTreeMap;

use core_contracts::{
    ControlAction, ControlCommand, ControlResult, ControlStatus, HealthComponent, HealthState,
    HealthStatus,
};

use super::PipelineService;

/// The name of the component of [`PipelineService::status`] that carries the pipeline's
/// figures in its details: `provider`, `scale`, `level`, `base_rate`, `published`,
/// `backlog`, `paused`, `cause`.
pub const PIPELINE_COMPONENT: &str = "pipeline";

impl PipelineService {
    /// Carries out `command` (the caller checked that it aims at this pipeline).
    pub async fn control(&self, command: &ControlCommand) -> ControlResult {
        let handler = &self.side.handler;
        match command.action {
            ControlAction::Pause | ControlAction::Resume => {
                let pause = command.action == ControlAction::Pause;
                match handler.hold(pause).await {
                    Ok((changed, _)) => ok(match (pause, changed) {
                        (true, true) => "paused: nothing is published until resume".to_owned(),
                        (true, false) => "was already paused".to_owned(),
                        (false, true) => {
                            "resumed: the stores' feedback sets the rate again".to_owned()
                        }
                        (false, false) => "was not paused".to_owned(),
                    }),
                    Err(error) => failed(format!("cannot apply the rate: {error}")),
                }
            }
            ControlAction::SetRate => {
                let Some(rate) = command.value else {
                    return failed("set_rate needs a rate in bars per second".to_owned());
                };
                let before = self.base_rate();
                match self.side.rates.set_base_rate(&self.side.provider, rate) {
                    Ok(()) => ok(format!(
                        "base rate {rate} bars/s (was {})",
                        before.map_or("unknown".to_owned(), |b| b.to_string())
                    )),
                    Err(error) => failed(error.to_string()),
                }
            }
            ControlAction::Reload => failed(
                "reload is not supported: the pipeline reads its settings once at start; \
                 restart it (with a checkpoint it resumes where it stopped)"
                    .to_owned(),
            ),
        }
    }

    /// The provider's base rate, bars per second at scale 1.
    pub fn base_rate(&self) -> Option<f64> {
        self.side
            .rates
            .get_provider_state(&self.side.provider)
            .ok()
            .map(|state| state.base_rate)
    }

    /// The pipeline's status report, as `service: "pipeline"` of `version`: degraded while
    /// it is held (by an operator or by the stores), its figures in the details of the
    /// component [`PIPELINE_COMPONENT`].
    pub async fn status(&self, version: &str, ts: f64) -> HealthStatus {
        let handler = &self.side.handler;
        let (scale, level) = self.side.recorder.current();
        let paused = handler.held().await;
        let details = BTreeMap::from(
            [
                ("id", self.id().to_owned()),
                ("provider", self.side.provider.clone()),
                ("scale", scale.to_string()),
                ("level", level.as_str().to_owned()),
                (
                    "base_rate",
                    self.base_rate().map_or(String::new(), |r| r.to_string()),
                ),
                ("published", self.publisher.published().to_string()),
                ("backlog", handler.backlog().await.to_string()),
                ("paused", paused.to_string()),
                (
                    "cause",
                    handler.cause().await.unwrap_or("nothing").to_owned(),
                ),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
        let state = if scale < 1.0 || paused {
            HealthState::Degraded
        } else {
            HealthState::Healthy
        };
        HealthStatus {
            service: "pipeline".to_owned(),
            state,
            components: vec![HealthComponent {
                name: PIPELINE_COMPONENT.to_owned(),
                state,
                details,
            }],
            version: version.to_owned(),
            ts,
        }
    }
}

fn ok(detail: String) -> ControlResult {
    ControlResult {
        status: ControlStatus::Ok,
        detail: Some(detail),
    }
}

fn failed(detail: String) -> ControlResult {
    ControlResult {
        status: ControlStatus::Error,
        detail: Some(detail),
    }
}
