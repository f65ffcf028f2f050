//! The utilization report: between heartbeats, every `MDS_FB_REPORT_MS` each coordinator
//! whose queue moved by at least [`REPORT_STEP`] of its capacity since its last report
//! re-publishes its current event with reason `utilization`. Pipelines in adaptive mode
//! (`MDP_FB_MODE=adaptive`) steer on these; an idle store sends none, and v1 readers see an
//! ordinary event restating the level.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use core_contracts::FeedbackEvent;
use pulse::CancellationToken;
use tokio::task::JoinHandle;

use super::PulseFeedbackPublisher;
use super::heartbeat::spawn_every;
use crate::coordinator::REASON_HEARTBEAT;
use crate::feedback::FeedbackBus;

/// Reason of a utilization report (a fault's reason is kept instead while it lasts).
pub const REASON_UTILIZATION: &str = "utilization";

/// How far the utilization must move (a fraction of the capacity) to be reported again.
pub const REPORT_STEP: f64 = 0.01;

/// Which events are worth reporting: a coordinator's first, then each one whose
/// utilization moved by [`REPORT_STEP`] or more since the last one reported.
///
/// ```
/// use core_contracts::{BackpressureLevel, FeedbackEvent};
/// use store::bus_feedback::ReportFilter;
/// let event = |size| FeedbackEvent::new("c1", size, 1000, BackpressureLevel::Ok, 1.0).expect("valid");
/// let mut filter = ReportFilter::default();
/// assert!(filter.admit(&event(500)));
/// assert!(!filter.admit(&event(505)));
/// assert!(filter.admit(&event(510)));
/// ```
#[derive(Debug, Default)]
pub struct ReportFilter {
    last: HashMap<String, f64>,
}

impl ReportFilter {
    /// Whether `event` is to be reported; remembers its utilization when it is.
    pub fn admit(&mut self, event: &FeedbackEvent) -> bool {
        let utilization = event.utilization();
        let moved = self
            .last
            .get(&event.coordinator_id)
            .is_none_or(|last| (utilization - last).abs() >= REPORT_STEP - f64::EPSILON);
        if moved {
            self.last.insert(event.coordinator_id.clone(), utilization);
        }
        moved
    }
}

/// Spawns the report: every `every`, the current event of each coordinator registered on
/// `bus` whose utilization moved (see [`ReportFilter`]) is published with reason
/// `utilization`; stops when `shutdown` is cancelled. Failures are logged and counted by
/// Pulse, and the next report carries on.
pub fn spawn_reports(
    bus: FeedbackBus,
    publisher: Arc<PulseFeedbackPublisher>,
    every: Duration,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let mut filter = ReportFilter::default();
    spawn_every(
        every,
        shutdown,
        publisher,
        "utilization report",
        move || {
            bus.current_events()
                .into_iter()
                .filter(|event| filter.admit(event))
                .map(as_report)
                .collect()
        },
    )
}

/// `event` with reason `utilization`, unless it carries a fault's reason.
fn as_report(mut event: FeedbackEvent) -> FeedbackEvent {
    if event.reason.as_deref() == Some(REASON_HEARTBEAT) {
        event.reason = Some(REASON_UTILIZATION.to_owned());
    }
    event
}

#[cfg(test)]
mod tests {
    use core_contracts::BackpressureLevel;

    use super::*;

    fn event(id: &str, size: u64) -> FeedbackEvent {
        FeedbackEvent::new(id, size, 1000, BackpressureLevel::Soft, 1.0)
            .expect("valid")
            .with_reason(REASON_HEARTBEAT)
    }

    #[test]
    fn a_coordinator_is_reported_when_its_queue_moved_by_one_percent() {
        let mut filter = ReportFilter::default();
        let cases = [
            ("a", 0, true),
            ("a", 0, false),
            ("a", 9, false),
            ("a", 10, true),
            ("b", 10, true),
            ("a", 1, false),
            ("a", 0, true),
            ("a", 700, true),
            ("b", 10, false),
        ];
        for (id, size, reported) in cases {
            assert_eq!(filter.admit(&event(id, size)), reported, "{id} at {size}");
        }
    }

    #[test]
    fn a_report_says_utilization_unless_a_fault_is_in_force() {
        assert_eq!(
            as_report(event("a", 1)).reason.as_deref(),
            Some(REASON_UTILIZATION)
        );
        let fault = event("a", 1).with_reason("circuit_open");
        assert_eq!(as_report(fault).reason.as_deref(), Some("circuit_open"));
    }
}
