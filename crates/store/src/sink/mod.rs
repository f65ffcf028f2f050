//! Where bars end up: the [`Sink`] trait and its backends: [`memory`], `sqlite` (feature
//! `sqlite`) and `postgres` (feature `postgres`).

use async_trait::async_trait;
use core_contracts::Bar;

mod dedup;
mod error;
mod factory;
pub mod memory;
mod metered;
#[cfg(feature = "postgres")]
pub mod postgres;
mod revision;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use error::SinkError;
pub use factory::{OpenSinkError, SinkOptions, open_database, open_sink};
pub use memory::MemorySink;
pub use metered::MeteredSink;
#[cfg(feature = "postgres")]
pub use postgres::PostgresSink;
pub use revision::{MAX_SEQ, Revision, RevisionGenerator};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteSink;

/// A durable destination for batches of bars. Bars are keyed by provider, symbol, resolution
/// and ts; each comes with its [`Revision`], and a row keeps the bar of the highest revision
/// written for its key, whatever order writes arrive in (an equal revision rewrites the row,
/// so writing the same batch twice is idempotent).
#[async_trait]
pub trait Sink: Send + Sync + 'static {
    /// Short name used in metrics and logs, e.g. `sqlite`.
    fn name(&self) -> &'static str;

    /// Writes `bars`, `revisions[i]` being the revision of `bars[i]` (upsert on the bar key,
    /// unless the row holds a higher revision). Slices of different lengths are refused with
    /// [`SinkError::Permanent`].
    async fn write(&self, bars: &[Bar], revisions: &[Revision]) -> Result<(), SinkError>;

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
