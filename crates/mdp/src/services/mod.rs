//! The two sides as separate services over the bus: `mdp pipeline` runs a
//! [`PipelineService`](::pipeline::service::PipelineService) publishing bars on
//! `{ns}.marketdata.bars`, `mdp store` instances each run a
//! [`StoreService`](::store::service::StoreService) of the consumer group `store` on it, and
//! feedback travels back on `{ns}.telemetry.feedback`. This module is their command line:
//! settings, sink, HTTP, the periodic log summary and signals, and what both report to and
//! take from the orchestrator (`status`, `obey`).

mod obey;
mod pipeline;
mod pipeline_http;
mod status;
mod store;
pub mod summary;

pub use pipeline::run_pipeline;
pub use store::run_store;
