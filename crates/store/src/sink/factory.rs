//! Opens the sink a URL names: `sqlite://PATH`, `postgres://...` or `memory://`.

use std::sync::Arc;

use super::memory::MemorySink;
use super::metered::MeteredSink;
#[cfg(feature = "postgres")]
use super::postgres::PostgresSink;
#[cfg(feature = "sqlite")]
use super::sqlite::SqliteSink;
use super::{Sink, SinkError};
#[cfg(feature = "postgres")]
use crate::config::PostgresUrl;
use crate::config::{DatabaseUrl, PostgresOptions, SqliteSynchronous, redact_url};
use crate::telemetry::SinkMetrics;

/// How to open a sink beyond its URL.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// Options of the PostgreSQL backend (feature `postgres`).
    pub postgres: PostgresOptions,
    /// How the SQLite backend syncs its commits (default `full`; feature `sqlite`).
    pub sqlite_synchronous: SqliteSynchronous,
    /// When set, writes are recorded in these metrics.
    pub metrics: Option<SinkMetrics>,
}

/// Why a sink could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenSinkError {
    /// The URL names no backend, a backend this build lacks, or is malformed.
    #[error("invalid DATABASE_URL {url}: expected {expected}")]
    InvalidUrl {
        /// The URL, password redacted.
        url: String,
        /// What is accepted.
        expected: String,
    },
    /// The backend could not be reached or set up.
    #[error("cannot open {backend} sink at {url}: {source}")]
    Open {
        /// `sqlite`, `postgres` or `memory`.
        backend: &'static str,
        /// The URL, password redacted.
        url: String,
        /// What went wrong.
        source: SinkError,
    },
}

/// Parses `url` and opens its sink.
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(async {
/// let dir = tempfile::tempdir().expect("temp dir");
/// let url = format!("sqlite://{}", dir.path().join("bars.db").display());
/// let sink = store::sink::open_sink(&url, &Default::default()).await.expect("sqlite opens");
/// assert_eq!(sink.name(), "sqlite");
/// assert!(store::sink::open_sink("mysql://db", &Default::default()).await.is_err());
/// # });
/// ```
pub async fn open_sink(url: &str, options: &SinkOptions) -> Result<Arc<dyn Sink>, OpenSinkError> {
    let parsed = DatabaseUrl::parse(url).map_err(|expected| OpenSinkError::InvalidUrl {
        url: redact_url(url),
        expected,
    })?;
    open_database(&parsed, options).await
}

/// Opens the sink of an already parsed URL.
pub async fn open_database(
    url: &DatabaseUrl,
    options: &SinkOptions,
) -> Result<Arc<dyn Sink>, OpenSinkError> {
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    let failed = |source| OpenSinkError::Open {
        backend: url.backend(),
        url: url.to_string(),
        source,
    };
    let sink: Arc<dyn Sink> = match url {
        #[cfg(feature = "sqlite")]
        DatabaseUrl::Sqlite(path) => Arc::new(
            SqliteSink::open_with(path, options.sqlite_synchronous)
                .await
                .map_err(failed)?,
        ),
        #[cfg(feature = "postgres")]
        DatabaseUrl::Postgres(raw) => {
            let parsed = PostgresUrl::parse(raw).map_err(|e| OpenSinkError::InvalidUrl {
                url: redact_url(raw),
                expected: format!("a valid PostgreSQL URL ({e})"),
            })?;
            Arc::new(
                PostgresSink::open(parsed, options.postgres.clone())
                    .await
                    .map_err(failed)?,
            )
        }
        DatabaseUrl::Memory => Arc::new(MemorySink::new()),
        // A backend whose feature is off in this build.
        #[allow(unreachable_patterns)]
        lacking => {
            return Err(OpenSinkError::InvalidUrl {
                url: lacking.to_string(),
                expected: lacking.needs_feature(),
            });
        }
    };
    Ok(match &options.metrics {
        Some(metrics) => Arc::new(MeteredSink::new(sink, metrics.clone())),
        None => sink,
    })
}
