//! The bus error type.

/// Why a bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The backend could not be reached or dropped the connection; retrying later may work.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// The backend refused the command.
    #[error("bus command failed: {0}")]
    Command(String),
    /// A message could not be encoded for publishing.
    #[error("cannot encode message: {0}")]
    Encode(String),
    /// A message is larger than `PULSE_MAX_MESSAGE_BYTES`.
    #[error("message of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// The bus is disabled (`PULSE_ENABLED=false`).
    #[error("pulse is disabled")]
    Disabled,
}

impl BusError {
    /// Whether the error is about reaching the backend (as opposed to a refused command).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

#[cfg(feature = "redis")]
impl From<redis::RedisError> for BusError {
    fn from(err: redis::RedisError) -> Self {
        if err.is_io_error()
            || err.is_connection_dropped()
            || err.is_timeout()
            || err.is_unrecoverable_error()
        {
            Self::Unavailable(err.to_string())
        } else {
            Self::Command(err.to_string())
        }
    }
}
