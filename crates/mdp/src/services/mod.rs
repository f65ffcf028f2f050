//! The two sides as separate services over the bus: `mdp pipeline` publishes bars on
//! `{ns}.marketdata.bars`, `mdp store` instances share the consumer group [`STORE_GROUP`] on
//! it and write the bars, and feedback travels back on `{ns}.telemetry.feedback`.

mod ack;
mod admin;
mod backlog;
mod bar_publisher;
mod checkpoint;
mod gate;
mod pipeline;
mod reader;
mod store;
mod tracker;

pub use pipeline::run_pipeline;
pub use store::run_store;

/// The consumer group every store service reads the bars stream in.
pub const STORE_GROUP: &str = "store";

/// A name unique to this process: `{role}-{pid}-{random}`.
pub fn unique_name(role: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("{role}-{}-{}", std::process::id(), &random[..8])
}

/// Readiness of the bus: its health map reports no error status.
pub async fn bus_ready(pulse: &pulse::Pulse) -> bool {
    pulse
        .health()
        .await
        .get("status")
        .is_none_or(|status| status == "ok")
}
