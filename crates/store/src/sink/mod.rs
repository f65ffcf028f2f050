//! Where bars end up: the [`Sink`] trait and its backends.

use async_trait::async_trait;
use core_contracts::Bar;

mod dedup;
mod error;
mod factory;
pub mod memory;
mod metered;
pub mod postgres;
pub mod sqlite;

pub use error::SinkError;
pub use factory::{OpenSinkError, SinkOptions, open_database, open_sink};
pub use memory::MemorySink;
pub use metered::MeteredSink;
pub use postgres::PostgresSink;
pub use sqlite::SqliteSink;

/// A durable destination for batches of bars. Writing the same batch twice is idempotent
/// (bars are keyed by provider, symbol, resolution and ts).
#[async_trait]
pub trait Sink: Send + Sync + 'static {
    /// Short name used in metrics and logs, e.g. `sqlite`.
    fn name(&self) -> &'static str;

    /// Writes `batch` (upsert on the bar key).
    async fn write(&self, batch: &[Bar]) -> Result<(), SinkError>;

    /// Makes every written bar durable.
    async fn flush(&self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Releases resources; no write follows.
    async fn close(&self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Whether the sink can take writes now (used by `/readyz`).
    async fn ready(&self) -> bool {
        true
    }
}
