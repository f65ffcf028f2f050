//! The one error type of the config module.

use core_contracts::env::EnvError;

/// A setting that cannot be used; every variant names the environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The variable holds a value of the wrong form or out of range.
    #[error("{var}={value:?}: {reason}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// The value read.
        value: String,
        /// What it must be.
        reason: String,
    },
    /// A variable required by another setting is not set.
    #[error("{var} must be set: {reason}")]
    Missing {
        /// The environment variable.
        var: &'static str,
        /// Why it is required.
        reason: String,
    },
}

impl From<EnvError> for ConfigError {
    fn from(e: EnvError) -> Self {
        Self::Invalid {
            var: e.var,
            value: e.value,
            reason: format!("expected {}", e.expected),
        }
    }
}

/// `var` holds `value`, which breaks `reason`.
pub(crate) fn invalid(var: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}
