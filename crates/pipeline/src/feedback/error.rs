//! The one error type of the feedback module.

use core_contracts::{BoxError, ContractError};

/// Why the feedback handler could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    /// A scale policy breaks a rule.
    #[error("invalid scale policy: {0}")]
    InvalidPolicy(String),
    /// Staleness windows that break a rule.
    #[error("invalid staleness windows: {0}")]
    InvalidWindows(String),
    /// The rate controller refused the adjustment; the event should be retried.
    #[error("provider {provider:?}: rate adjustment not applied: {source}")]
    Apply {
        /// The provider adjusted.
        provider: String,
        /// What the controller reported.
        source: BoxError,
    },
    /// The adjustment built is not a valid contract (a bug or a bad provider name).
    #[error(transparent)]
    Contract(#[from] ContractError),
}
