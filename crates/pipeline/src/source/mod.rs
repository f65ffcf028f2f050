//! Bar sources: a seeded synthetic generator and a CSV replay, pumped through the rate
//! coordinator into a [`BarSubmitter`].

mod csv_replay;
mod error;
mod pump;
mod synthetic;

pub use csv_replay::CsvReplay;
pub use error::SourceError;
pub use pump::{Pump, PumpStats};
pub use synthetic::SyntheticSource;

use async_trait::async_trait;
use core_contracts::{Bar, BoxError};

/// Whatever takes the bars a source produces: a store's write coordinator in process, or a
/// bus publisher to `mdp.marketdata.bars`.
#[async_trait]
pub trait BarSubmitter: Send + Sync {
    /// Accepts `bars`, in order; an error means none of them may be assumed accepted.
    async fn submit(&self, bars: Vec<Bar>) -> Result<(), BoxError>;
}
