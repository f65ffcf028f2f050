//! Why a pipeline service could not start or stopped early.

use super::checkpoint::CheckpointError;
use crate::feedback::FeedbackError;
use crate::rate::RateError;
use crate::source::SourceError;

/// Why a pipeline service could not start, or its publishing stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The rate override is not a positive number.
    #[error("invalid rate {0}: expected a number of bars per second > 0")]
    InvalidRate(f64),
    /// The provider's rate settings are refused.
    #[error("cannot register provider {provider:?}")]
    Provider {
        /// The provider.
        provider: String,
        /// Why.
        #[source]
        source: RateError,
    },
    /// The level that holds before a store is heard could not be put in force.
    #[error("cannot put the no-store level in force")]
    NoStoreLevel(#[source] FeedbackError),
    /// The checkpoint cannot be read.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The source failed, or a batch could not be published before the service stopped.
    #[error("the pipeline stopped after {published} bars")]
    Publish {
        /// Bars of the source published, earlier runs included.
        published: u64,
        /// Why.
        #[source]
        source: SourceError,
    },
}
