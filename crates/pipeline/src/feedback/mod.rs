//! Feedback from the stores: the pure control law ([`aggregate`], [`decide`] with the
//! no-store policy and the backlog, [`ScalePolicy`] for levels mode and [`AdaptiveLaw`] for
//! adaptive mode), the
//! [`FeedbackHandler`] that applies it to a [`core_contracts::RateController`], the Pulse
//! [`FeedbackConsumer`] that feeds it and the [`PulseAdjustmentSink`] that publishes what it
//! applied.

pub mod adaptive;
mod aggregate;
mod consumer;
mod error;
mod handler;
mod mode;
mod policy;
mod pressure;
mod pulse_sink;
mod sink;
mod windows;

pub use adaptive::AdaptiveLaw;
pub use aggregate::{
    Admission, Aggregate, CoordinatorView, Liveness, admit, aggregate, counted_level, liveness,
};
pub use consumer::{FeedbackConsumer, HISTORY};
pub use error::FeedbackError;
pub use handler::{FeedbackHandler, HandleOutcome, IgnoreReason};
pub use mode::{FeedbackMode, RESCALE_STEP, adaptive_pressure, adaptive_scale, rescale_needed};
pub use policy::ScalePolicy;
pub use pressure::{Cause, Decision, WhenNoStore, backlog_level, decide};
pub use pulse_sink::{PIPELINE_HEADER, PulseAdjustmentSink};
pub use sink::{AdjustmentSink, ChannelSink, NoopSink};
pub use windows::Windows;
