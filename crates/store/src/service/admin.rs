//! The store service's admin actions behind `ADMIN_TOKEN`: `pause` stops reading new bars
//! from the bus (the bars in hand are still written and acknowledged), `resume` reads again,
//! `reload` is refused: settings are read once at start.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::{ControlAction, ControlResult, ControlStatus};

use super::gate::ReadGate;
use super::in_flight::InFlight;
use crate::http::AdminActions;

/// How long `pause` waits for the reader to park before answering, by default.
const PARK_WAIT: Duration = Duration::from_secs(10);

/// What `/admin/*` does in `mdp store`.
#[derive(Debug)]
pub(super) struct StoreAdmin {
    gate: Arc<ReadGate>,
    held: Arc<InFlight>,
    park_wait: Duration,
}

impl StoreAdmin {
    /// Actions on the reader behind `gate`, reporting the entries still `held`.
    pub(super) fn new(gate: Arc<ReadGate>, held: Arc<InFlight>) -> Self {
        Self {
            gate,
            held,
            park_wait: PARK_WAIT,
        }
    }

    /// `pause` answers after at most `wait` for the reader to park.
    pub(super) fn parking_within(mut self, wait: Duration) -> Self {
        self.park_wait = wait;
        self
    }

    async fn pause(&self) -> ControlResult {
        let newly = self.gate.pause();
        let parked = self.gate.parked_within(self.park_wait).await;
        let state = if !parked {
            "pause requested; the reader is still handing its last bars to the queue"
        } else if newly {
            "reading paused"
        } else {
            "reading was already paused"
        };
        ok(format!(
            "{state}: no new bars are taken from the bus; {} bars in hand are still being written",
            self.held.len()
        ))
    }
}

fn ok(detail: String) -> ControlResult {
    ControlResult {
        status: ControlStatus::Ok,
        detail: Some(detail),
    }
}

#[async_trait]
impl AdminActions for StoreAdmin {
    async fn control(&self, action: ControlAction) -> ControlResult {
        match action {
            ControlAction::Pause => self.pause().await,
            ControlAction::Resume => ok(if self.gate.resume() {
                "reading resumed".to_owned()
            } else {
                "reading was not paused".to_owned()
            }),
            ControlAction::SetRate => ControlResult {
                status: ControlStatus::Error,
                detail: Some(
                    "set_rate applies to pipelines: a store takes bars as fast as its sink \
                     writes them"
                        .to_owned(),
                ),
            },
            ControlAction::Reload => ControlResult {
                status: ControlStatus::Error,
                detail: Some(
                    "reload is not supported: the store reads its settings once at start; \
                     restart it (SIGTERM drains and acknowledges what it holds) to apply new ones"
                        .to_owned(),
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn reload_is_refused_and_resume_without_pause_says_so() {
        let admin = StoreAdmin::new(Arc::default(), Arc::default());
        let reload = admin.control(ControlAction::Reload).await;
        assert_eq!(reload.status, ControlStatus::Error);
        assert!(reload.detail.is_some_and(|d| d.contains("not supported")));
        let resume = admin.control(ControlAction::Resume).await;
        assert_eq!(resume.status, ControlStatus::Ok);
        assert_eq!(resume.detail.as_deref(), Some("reading was not paused"));
    }
}
