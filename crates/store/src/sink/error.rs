//! The sink error type, split into what a retry may cure and what it will not.

/// Why a sink write failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// A failure a retry may cure: connection lost, timeout, lock contention.
    #[error("transient sink error: {0}")]
    Transient(String),
    /// A failure a retry will not cure: bad data, schema mismatch, constraint violation.
    #[error("permanent sink error: {0}")]
    Permanent(String),
}

impl SinkError {
    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }

    /// The label used in `error_type` metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Transient(_) => "transient",
            Self::Permanent(_) => "permanent",
        }
    }
}
