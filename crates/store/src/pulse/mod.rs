//! The Pulse side of the store (SPEC §4.6): feedback events published on
//! `{ns}.telemetry.feedback`, and a heartbeat that re-publishes every coordinator's current
//! level so that pipelines can tell a silent store from a healthy one.

mod heartbeat;
mod publisher;

pub use heartbeat::spawn_heartbeat;
pub use publisher::PulseFeedbackPublisher;
