//! `Bar`: one OHLCV bar with exact decimal prices.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{non_empty, validated_deserialize};
use crate::{Contract, ContractError};

/// One OHLCV bar of a symbol at a resolution; unique by [`BarKey`].
///
/// Prices and volume are exact decimals, written as JSON strings (`"187.25"`); JSON numbers
/// are accepted on decode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Bar {
    /// Data provider, e.g. `ibkr`.
    #[schemars(length(min = 1))]
    pub provider: String,
    /// Instrument symbol, e.g. `AAPL`.
    #[schemars(length(min = 1))]
    pub symbol: String,
    /// Bar resolution: a count and a unit, e.g. `1m`, `5m`, `1h`, `1d`.
    #[schemars(regex(pattern = r"^[0-9]+[A-Za-z]+$"))]
    pub resolution: String,
    /// Start of the bar, RFC 3339 UTC.
    pub ts: DateTime<Utc>,
    /// Opening price.
    pub open: Decimal,
    /// Highest price.
    pub high: Decimal,
    /// Lowest price.
    pub low: Decimal,
    /// Closing price.
    pub close: Decimal,
    /// Traded volume.
    pub volume: Decimal,
    /// Whether the data is delayed rather than real-time.
    #[serde(default)]
    pub delayed: bool,
}

/// The unique key of a bar: (provider, symbol, resolution, ts).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BarKey {
    /// Data provider.
    pub provider: String,
    /// Instrument symbol.
    pub symbol: String,
    /// Bar resolution.
    pub resolution: String,
    /// Start of the bar.
    pub ts: DateTime<Utc>,
}

impl BarKey {
    /// The idempotency key a bar is published under on the bus:
    /// `provider|symbol|resolution|ts` (RFC 3339), so a bar published twice is recognised.
    pub fn bus_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.provider,
            self.symbol,
            self.resolution,
            self.ts.to_rfc3339()
        )
    }
}

impl Bar {
    /// The bar's unique key.
    pub fn key(&self) -> BarKey {
        BarKey {
            provider: self.provider.clone(),
            symbol: self.symbol.clone(),
            resolution: self.resolution.clone(),
            ts: self.ts,
        }
    }

    /// Checks every rule of the DTO: names present, a valid resolution, non-negative values,
    /// and `low <= open, close <= high`.
    ///
    /// ```
    /// use core_contracts::Bar;
    /// let bar: Bar = serde_json::from_str(r#"{"provider":"ibkr","symbol":"AAPL","resolution":"1m",
    ///   "ts":"2024-05-01T13:30:00Z","open":"187.25","high":"187.90","low":"187.10",
    ///   "close":"187.80","volume":"12000"}"#)?;
    /// assert_eq!(bar.close.to_string(), "187.80");
    /// assert!(!bar.delayed);
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn validate(&self) -> Result<(), ContractError> {
        non_empty("provider", &self.provider)?;
        non_empty("symbol", &self.symbol)?;
        let digits = self
            .resolution
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        let unit = &self.resolution[digits..];
        if digits == 0 || unit.is_empty() || !unit.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ContractError::invalid(
                "resolution",
                format!(
                    "must be a count and a unit such as 1m or 1d, got {:?}",
                    self.resolution
                ),
            ));
        }
        for (field, value) in [
            ("open", self.open),
            ("high", self.high),
            ("low", self.low),
            ("close", self.close),
            ("volume", self.volume),
        ] {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(ContractError::invalid(
                    field,
                    format!("must be >= 0, got {value}"),
                ));
            }
        }
        if self.low > self.high {
            return Err(ContractError::invalid(
                "low",
                format!("must be <= high ({}), got {}", self.high, self.low),
            ));
        }
        for (field, value) in [("open", self.open), ("close", self.close)] {
            if value < self.low || value > self.high {
                return Err(ContractError::invalid(
                    field,
                    format!(
                        "must lie within [low, high] = [{}, {}], got {value}",
                        self.low, self.high
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Contract for Bar {
    const SCHEMA_ID: &'static str = "marketdata.Bar";
}

#[derive(Deserialize)]
struct Raw {
    provider: String,
    symbol: String,
    resolution: String,
    ts: DateTime<Utc>,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
    #[serde(default)]
    delayed: bool,
}

impl TryFrom<Raw> for Bar {
    type Error = ContractError;

    fn try_from(raw: Raw) -> Result<Self, Self::Error> {
        let bar = Self {
            provider: raw.provider,
            symbol: raw.symbol,
            resolution: raw.resolution,
            ts: raw.ts,
            open: raw.open,
            high: raw.high,
            low: raw.low,
            close: raw.close,
            volume: raw.volume,
            delayed: raw.delayed,
        };
        bar.validate()?;
        Ok(bar)
    }
}

validated_deserialize!(Bar, Raw);
