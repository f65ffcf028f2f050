//! Field rules shared by the DTOs, and the macro that makes deserialization validate.

use crate::ContractError;

/// `value` must contain at least one non-whitespace character.
pub(crate) fn non_empty(field: &'static str, value: &str) -> Result<(), ContractError> {
    if value.trim().is_empty() {
        return Err(ContractError::invalid(field, "must not be empty"));
    }
    Ok(())
}

/// `value` must be a finite number that is not negative.
pub(crate) fn finite_non_negative(field: &'static str, value: f64) -> Result<(), ContractError> {
    if !value.is_finite() || value < 0.0 {
        return Err(ContractError::invalid(
            field,
            format!("must be a finite number >= 0, got {value}"),
        ));
    }
    Ok(())
}

/// `value` must lie in the closed interval `[0, 1]`.
pub(crate) fn unit_interval(field: &'static str, value: f64) -> Result<(), ContractError> {
    if !(0.0..=1.0).contains(&value) {
        return Err(ContractError::invalid(
            field,
            format!("must be within [0, 1], got {value}"),
        ));
    }
    Ok(())
}

/// `value` must be `>= 0` and fit the target unsigned type.
pub(crate) fn non_negative_int(field: &'static str, value: i128) -> Result<u64, ContractError> {
    u64::try_from(value).map_err(|_| {
        let rule = if value < 0 {
            "must be >= 0"
        } else {
            "must be < 2^64"
        };
        ContractError::invalid(field, format!("{rule}, got {value}"))
    })
}

/// Implements `Deserialize` for a DTO by decoding its raw twin and validating it with
/// `TryFrom<Raw>`, so that a decoded DTO is always valid.
macro_rules! validated_deserialize {
    ($dto:ty, $raw:ty) => {
        impl<'de> serde::Deserialize<'de> for $dto {
            fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
                let raw = <$raw as serde::Deserialize>::deserialize(de)?;
                <$dto>::try_from(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use validated_deserialize;
