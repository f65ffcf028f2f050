//! Feedback from the stores: the pure control law ([`aggregate`], [`ScalePolicy`]) and the
//! [`FeedbackHandler`] that applies it to a [`core_contracts::RateController`].

mod aggregate;
mod error;
mod handler;
mod policy;
mod sink;
mod windows;

pub use aggregate::{
    Admission, Aggregate, CoordinatorView, Liveness, admit, aggregate, counted_level, liveness,
};
pub use error::FeedbackError;
pub use handler::{FeedbackHandler, HandleOutcome, IgnoreReason};
pub use policy::ScalePolicy;
pub use sink::{AdjustmentSink, ChannelSink, NoopSink};
pub use windows::Windows;
