//! The pipeline side of mdp: producers take tokens from a per-provider [`rate`] coordinator
//! before they hand bars to a store, and a [`feedback`] handler turns the stores' backpressure
//! reports into the budget scale of those tokens.
//!
//! ```text
//! source ──acquire──▶ RateCoordinator ──▶ BarSubmitter (the store)
//!                          ▲ set_budget_scale
//!                RateCoordinatorAdapter (RateController)
//!                          ▲ RateAdjustment
//! Pulse {ns}.telemetry.feedback ──▶ FeedbackConsumer (broadcast read)
//!        ──▶ FeedbackHandler (aggregate, policy) ──▶ AdjustmentSink
//!                                   PulseAdjustmentSink ──▶ {ns}.telemetry.rate_adjustment
//! ```
//!
//! [`service::PipelineService`] puts these together over the bus: it publishes bars on
//! `{ns}.marketdata.bars` under the stores' feedback, with a checkpoint.

pub mod config;
pub mod feedback;
pub mod rate;
pub mod service;
pub mod source;
pub mod telemetry;

pub use config::PipelineSettings;
pub use feedback::{
    AdjustmentSink, FeedbackConsumer, FeedbackHandler, HandleOutcome, PulseAdjustmentSink,
};
pub use rate::{ProviderConfig, RateCoordinator, RateCoordinatorAdapter};
pub use source::BarSubmitter;
pub use telemetry::PipelineMetrics;
