//! `BarPublisher`: the pipeline service's [`BarSubmitter`]: each batch is published on
//! `{ns}.marketdata.bars` in one batch publish, retried with backoff while the bus is down
//! (a publish never hangs and never drops a bar), then checkpointed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::retry::{RetryPolicy, retry};
use core_contracts::{Bar, BoxError, TokioClock, WireEvent};
use pulse::{CancellationToken, Pulse};

use super::checkpoint::{Checkpoint, CheckpointError};
use crate::telemetry::PublishMetrics;
use crate::{BarSubmitter, FeedbackHandler};

/// A failed publish is retried 50 ms doubling to 2 s, until it passes or the pipeline stops.
const PUBLISH_RETRY: RetryPolicy =
    RetryPolicy::doubling(Duration::from_millis(50), Duration::from_secs(2));

/// Publishes bars on the bars stream.
#[derive(Debug)]
pub(super) struct BarPublisher {
    pulse: Pulse,
    checkpoint: Checkpoint,
    published: AtomicU64,
    metrics: PublishMetrics,
    shutdown: CancellationToken,
    admission: Option<Arc<FeedbackHandler>>,
}

impl BarPublisher {
    /// A publisher on `pulse` whose count starts at `already` (bars published by earlier
    /// runs, per `checkpoint`); gives up retrying when `shutdown` is cancelled.
    pub(super) fn new(
        pulse: Pulse,
        checkpoint: Checkpoint,
        already: u64,
        metrics: PublishMetrics,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            pulse,
            checkpoint,
            published: AtomicU64::new(already),
            metrics,
            shutdown,
            admission: None,
        }
    }

    /// Also tells `handler` of each batch published, so that backlog admission holds
    /// within one batch of `MDP_MAX_BACKLOG` rather than one backlog reading later.
    pub(super) fn admitting(mut self, handler: Arc<FeedbackHandler>) -> Self {
        self.admission = Some(handler);
        self
    }

    /// Bars of the source published so far, earlier runs included.
    pub(super) fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Writes the count published so far to the checkpoint: at stop, after a batch whose
    /// own save may have been cut short.
    pub(super) async fn save_final(&self) -> Result<(), CheckpointError> {
        self.checkpoint.save(self.published()).await
    }

    fn seal(&self, bars: &[Bar]) -> Result<Vec<WireEvent<Bar>>, BoxError> {
        seal_bars(&self.pulse, bars)
    }
}

/// The bus entries the pipeline publishes for `bars`: each sealed on the track of `pulse`
/// under its bus key (provider, symbol, timeframe, timestamp), which makes a republished bar
/// the same entry to the stores' idempotency.
pub fn seal_bars(pulse: &Pulse, bars: &[Bar]) -> Result<Vec<WireEvent<Bar>>, BoxError> {
    bars.iter()
        .map(|bar| {
            let key = bar.key().bus_key();
            pulse.seal(bar, Some(&key)).map_err(Into::into)
        })
        .collect()
}

#[async_trait]
impl BarSubmitter for BarPublisher {
    async fn submit(&self, bars: Vec<Bar>) -> Result<(), BoxError> {
        let events = self.seal(&bars)?;
        let mut failures = 0u32;
        let published = retry(
            &PUBLISH_RETRY,
            &TokioClock::new(),
            self.shutdown.cancelled(),
            || self.pulse.publish_batch(pulse::stream::BARS, &events),
            |error, failure| {
                self.metrics.retries.inc();
                failures = failure.attempts;
                tracing::warn!(%error, bars = bars.len(),
                    retry_in_ms = failure.retry_in.unwrap_or_default().as_millis(), "bar publish failed, retrying");
                true
            },
        )
        .await;
        if let Err(gave_up) = published {
            return Err(format!("stopped while the bus was failing: {}", gave_up.error).into());
        }
        if failures > 0 {
            tracing::info!(
                redis = self.pulse.config().redis_address(),
                failures,
                "bar publish works again"
            );
        }
        // Counted before anything else is awaited: a stop that drops this future from
        // here on still knows these bars are out (`save_final`).
        let n = bars.len() as u64;
        let published = self.published.fetch_add(n, Ordering::Relaxed) + n;
        self.metrics.published.inc_by(n);
        self.checkpoint.save(published).await?;
        if let Some(handler) = &self.admission
            && let Err(error) = handler.published(n).await
        {
            tracing::warn!(%error, "backlog pressure not applied yet");
        }
        Ok(())
    }
}
