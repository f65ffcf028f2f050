//! Source settings: `MDP_SOURCE_*`, which bars the pipeline produces.

use std::path::PathBuf;

use super::ConfigError;
use core_contracts::env::Env;

use super::error::invalid;

/// `synthetic` (default) or `csv`.
pub const KIND: &str = "MDP_SOURCE";
/// The CSV file replayed when `MDP_SOURCE=csv`.
pub const CSV_PATH: &str = "MDP_SOURCE_CSV_PATH";
/// Seed of the synthetic generator (default 42).
pub const SEED: &str = "MDP_SOURCE_SEED";
/// Comma-separated symbols of the synthetic generator (default `AAPL,MSFT,GOOG,AMZN`).
pub const SYMBOLS: &str = "MDP_SOURCE_SYMBOLS";
/// Resolution of the synthetic bars (default `1m`).
pub const RESOLUTION: &str = "MDP_SOURCE_RESOLUTION";
/// Bars per `acquire` and per submit (default 50; at most `MDP_RATE_CAPACITY`).
pub const BATCH_SIZE: &str = "MDP_SOURCE_BATCH_SIZE";
/// Stop after this many bars (default unset: the synthetic source never ends).
pub const MAX_BARS: &str = "MDP_SOURCE_MAX_BARS";

/// Which bars to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// Seeded random walks, one per symbol.
    Synthetic {
        /// Generator seed.
        seed: u64,
        /// Symbols generated, in turn.
        symbols: Vec<String>,
        /// Bar resolution, e.g. `1m`.
        resolution: String,
    },
    /// Bars replayed from a CSV file.
    Csv {
        /// The file.
        path: PathBuf,
    },
}

/// The bar source of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSettings {
    /// Which bars.
    pub kind: SourceKind,
    /// Bars per `acquire` and per submit.
    pub batch_size: u32,
    /// Stop after this many bars; `None` runs until the source ends.
    pub max_bars: Option<u64>,
}

impl SourceSettings {
    pub(crate) fn read(env: &Env<'_>, capacity: u32) -> Result<Self, ConfigError> {
        let kind = match env.string(KIND, "synthetic").as_str() {
            "synthetic" => {
                let symbols: Vec<String> = env
                    .string(SYMBOLS, "AAPL,MSFT,GOOG,AMZN")
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
                if symbols.is_empty() {
                    return Err(invalid(SYMBOLS, "", "must list at least one symbol"));
                }
                SourceKind::Synthetic {
                    seed: env.parse(SEED, 42, "a whole number")?,
                    symbols,
                    resolution: env.string(RESOLUTION, "1m"),
                }
            }
            "csv" => SourceKind::Csv {
                path: env
                    .raw(CSV_PATH)
                    .map(PathBuf::from)
                    .ok_or_else(|| ConfigError::Missing {
                        var: CSV_PATH,
                        reason: format!("{KIND}=csv replays that file"),
                    })?,
            },
            other => return Err(invalid(KIND, other, "must be synthetic or csv")),
        };
        let batch_size = env.count(BATCH_SIZE, 50.min(capacity))?;
        if batch_size > capacity {
            return Err(invalid(
                BATCH_SIZE,
                &batch_size.to_string(),
                &format!("must not exceed the bucket capacity ({capacity})"),
            ));
        }
        let max_bars = match env.raw(MAX_BARS) {
            None => None,
            Some(_) => Some(env.count(MAX_BARS, 1_u64)?),
        };
        Ok(Self {
            kind,
            batch_size,
            max_bars,
        })
    }
}
