//! Decoding a JSON document into a DTO with an error that names the field and the rule.

use serde::de::DeserializeOwned;

use crate::ContractError;

/// Decodes and validates `json` as a `T`; the error names the JSON path and the rule broken.
///
/// ```
/// use core_contracts::{decode, FeedbackEvent};
/// let err = decode::<FeedbackEvent>(r#"{"coordinator_id":"c","queue_size":-1,"capacity":1,
///     "level":"ok","ts":1.0}"#).unwrap_err();
/// assert!(err.to_string().contains("queue_size"), "{err}");
/// ```
pub fn decode<T: DeserializeOwned>(json: &str) -> Result<T, ContractError> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| decode_error::<T>(&e))?;
    de.end().map_err(|e| ContractError::Decode {
        type_name: short_type_name::<T>(),
        path: ".".to_owned(),
        message: e.to_string(),
    })?;
    Ok(value)
}

/// Decodes and validates an already parsed JSON value as a `T`.
pub fn decode_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ContractError> {
    serde_path_to_error::deserialize(value).map_err(|e| decode_error::<T>(&e))
}

fn decode_error<T>(e: &serde_path_to_error::Error<serde_json::Error>) -> ContractError {
    ContractError::Decode {
        type_name: short_type_name::<T>(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
