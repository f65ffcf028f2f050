//! The two seams between the crates: applying a rate and publishing feedback.

use async_trait::async_trait;

use crate::{FeedbackEvent, RateAdjustment};

/// A boxed error that any implementation may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Something that applies rate adjustments, e.g. a pipeline's rate coordinator.
#[async_trait]
pub trait RateController: Send + Sync {
    /// Puts `adjustment` in force.
    async fn apply(&self, adjustment: RateAdjustment) -> Result<(), BoxError>;
}

/// Something that publishes feedback events, e.g. to the Pulse bus.
#[async_trait]
pub trait FeedbackPublisher: Send + Sync {
    /// Publishes `event`.
    async fn publish(&self, event: FeedbackEvent) -> Result<(), BoxError>;
}
