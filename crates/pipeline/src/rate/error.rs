//! The one error type of the rate module.

use std::time::Duration;

/// Why the rate coordinator refused a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RateError {
    /// No provider of that name was registered.
    #[error("unknown provider {0:?}: register it first")]
    UnknownProvider(String),
    /// A provider of that name is already registered.
    #[error("provider {0:?} is already registered")]
    AlreadyRegistered(String),
    /// More tokens were asked for than the bucket can ever hold.
    #[error(
        "provider {provider:?}: {requested} tokens requested but the bucket holds at most {capacity}"
    )]
    ExceedsCapacity {
        /// The provider.
        provider: String,
        /// Tokens asked for.
        requested: u32,
        /// The bucket's capacity.
        capacity: u32,
    },
    /// The provider's circuit breaker is open.
    #[error("provider {provider:?}: circuit open, retry in {retry_after:?}")]
    CircuitOpen {
        /// The provider.
        provider: String,
        /// When a request may be tried again.
        retry_after: Duration,
    },
    /// A provider configuration breaks a rule.
    #[error("provider {provider:?}: invalid configuration: {reason}")]
    InvalidConfig {
        /// The provider.
        provider: String,
        /// The rule broken.
        reason: String,
    },
    /// A budget scale that is not a number.
    #[error("provider {provider:?}: budget scale must be a number, got {scale}")]
    InvalidScale {
        /// The provider.
        provider: String,
        /// The value given.
        scale: f64,
    },
    /// A base rate that is not a finite number > 0.
    #[error("provider {provider:?}: base rate must be a finite number of tokens/s > 0, got {rate}")]
    InvalidRate {
        /// The provider.
        provider: String,
        /// The value given.
        rate: f64,
    },
}
