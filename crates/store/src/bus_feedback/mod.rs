//! The Pulse side of the store (SPEC §4.6): feedback events published on
//! `{ns}.telemetry.feedback`, a heartbeat that re-publishes every coordinator's current
//! level so that pipelines can tell a silent store from a healthy one, and a utilization
//! report between heartbeats for pipelines that steer on it.

mod heartbeat;
mod publisher;
mod report;

pub use heartbeat::spawn_heartbeat;
pub use publisher::PulseFeedbackPublisher;
pub use report::{REASON_UTILIZATION, REPORT_STEP, ReportFilter, spawn_reports};
