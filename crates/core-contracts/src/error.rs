//! The one error type of the contracts crate.

/// Why a document or a value is not a valid contract.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContractError {
    /// A field breaks a rule of its DTO (`field` names it, `rule` says what it must be).
    #[error("invalid `{field}`: {rule}")]
    Invalid {
        /// The serde name of the offending field.
        field: &'static str,
        /// The rule it breaks, phrased as a requirement.
        rule: String,
    },
    /// A JSON document could not be decoded; `path` locates the problem (`.` for the root).
    #[error("cannot decode {type_name} at `{path}`: {message}")]
    Decode {
        /// The DTO being decoded.
        type_name: &'static str,
        /// The JSON path of the problem, e.g. `payload.queue_size`.
        path: String,
        /// What serde or validation reported.
        message: String,
    },
}

impl ContractError {
    /// Shorthand for [`ContractError::Invalid`].
    pub fn invalid(field: &'static str, rule: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            rule: rule.into(),
        }
    }
}
