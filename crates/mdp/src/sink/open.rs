//! Opens the sink the flags and the environment name, with its wrappers.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use core_contracts::TokioClock;
use core_contracts::retry::{RetryPolicy, retry};
use store::config::{DatabaseUrl, StoreSettings};
use store::sink::{OpenSinkError, Sink, SinkError, SinkOptions, open_database};
use store::telemetry::SinkMetrics;

use super::{FAULT_FILE_VAR, FaultSwitchSink, REJECT_SYMBOLS_VAR, RejectingSink, ThrottledSink};

/// What to open: the URL (flag, else `DATABASE_URL`, else sqlite://mdp.db) and the limits.
#[derive(Debug, Clone)]
pub struct SinkChoice {
    /// The database.
    pub url: DatabaseUrl,
    /// A write rate limit in bars per second.
    pub rate: Option<f64>,
}

impl SinkChoice {
    /// The choice of `--sink`/`--sink-rate` over the store settings.
    pub fn new(
        flag: Option<&str>,
        rate: Option<f64>,
        settings: &StoreSettings,
    ) -> anyhow::Result<Self> {
        let url = match flag {
            Some(raw) => DatabaseUrl::parse(raw).map_err(|expected| {
                anyhow::anyhow!(
                    "invalid --sink {:?}: expected {expected}",
                    store::config::redact_url(raw)
                )
            })?,
            None => settings.sink.database_url.clone(),
        };
        if let Some(rate) = rate
            && !(rate.is_finite() && rate > 0.0)
        {
            bail!("invalid --sink-rate {rate}: expected a number of bars per second > 0");
        }
        Ok(Self { url, rate })
    }
}

/// Opens the sink with its metrics, then the rate limit, the fault switch
/// (`MDP_SINK_FAULT_FILE`) and the rejection list (`MDP_SINK_REJECT_SYMBOLS`) when
/// configured.
pub async fn open(
    choice: &SinkChoice,
    settings: &StoreSettings,
    metrics: SinkMetrics,
) -> anyhow::Result<Arc<dyn Sink>> {
    let options = SinkOptions {
        postgres: settings.sink.postgres.clone(),
        sqlite_synchronous: settings.sink.sqlite_synchronous,
        metrics: Some(metrics),
    };
    let mut sink = open_retrying(&choice.url, &options)
        .await
        .with_context(|| format!("cannot open the sink {}", choice.url))?;
    if let Some(rate) = choice.rate {
        sink = Arc::new(ThrottledSink::new(sink, rate));
    }
    if let Some(path) = std::env::var_os(FAULT_FILE_VAR).filter(|p| !p.is_empty()) {
        tracing::warn!(path = %std::path::Path::new(&path).display(),
            "sink fault switch armed: writes fail while the file exists");
        sink = Arc::new(FaultSwitchSink::new(sink, path.into()));
    }
    if let Some(list) = std::env::var(REJECT_SYMBOLS_VAR)
        .ok()
        .filter(|l| !l.trim().is_empty())
    {
        let rejecting = RejectingSink::new(sink, &list);
        tracing::warn!(
            symbols = rejecting
                .symbols()
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            "sink rejection list armed: batches with these symbols are dead-lettered"
        );
        sink = Arc::new(rejecting);
    }
    Ok(sink)
}

/// How long opening a sink is retried while it fails transiently (a database starting, a
/// SQLite file locked by another store opening it at the same moment).
const OPEN_PATIENCE: Duration = Duration::from_secs(15);

/// Opens the sink of `url`, retrying transient failures for [`OPEN_PATIENCE`] with the
/// backoff of the write path ([`RetryPolicy`]).
async fn open_retrying(
    url: &DatabaseUrl,
    options: &SinkOptions,
) -> Result<Arc<dyn Sink>, OpenSinkError> {
    let policy = RetryPolicy {
        give_up_after: Some(OPEN_PATIENCE),
        ..RetryPolicy::default()
    };
    retry(
        &policy,
        &TokioClock::new(),
        std::future::pending(),
        || open_database(url, options),
        |error, failure| match (error, failure.retry_in) {
            (
                OpenSinkError::Open {
                    source: SinkError::Transient(reason),
                    ..
                },
                Some(wait),
            ) => {
                tracing::warn!(%url, reason, retry_in_ms = wait.as_millis(),
                    "cannot open the sink yet, retrying");
                true
            }
            _ => false,
        },
    )
    .await
    .map_err(|gave_up| gave_up.error)
}
