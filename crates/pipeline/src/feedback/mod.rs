//! Feedback from the stores: the pure control law ([`aggregate`], [`ScalePolicy`]), the
//! [`FeedbackHandler`] that applies it to a [`core_contracts::RateController`], the Pulse
//! [`FeedbackConsumer`] that feeds it and the [`PulseAdjustmentSink`] that publishes what it
//! applied.

mod aggregate;
mod consumer;
mod error;
mod handler;
mod policy;
mod pulse_sink;
mod sink;
mod windows;

pub use aggregate::{
    Admission, Aggregate, CoordinatorView, Liveness, admit, aggregate, counted_level, liveness,
};
pub use consumer::{FeedbackConsumer, GROUP};
pub use error::FeedbackError;
pub use handler::{FeedbackHandler, HandleOutcome, IgnoreReason};
pub use policy::ScalePolicy;
pub use pulse_sink::PulseAdjustmentSink;
pub use sink::{AdjustmentSink, ChannelSink, NoopSink};
pub use windows::Windows;
