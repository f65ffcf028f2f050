//! `Pump`: moves bars from a source through `acquire` into a [`BarSubmitter`].

use std::sync::Arc;

use core_contracts::Bar;

use super::{BarSubmitter, SourceError};
use crate::rate::RateCoordinator;
use crate::telemetry::PipelineMetrics;

/// What a pump moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PumpStats {
    /// Bars submitted.
    pub bars: u64,
    /// Batches submitted.
    pub batches: u64,
}

/// Takes one token per bar from `provider`'s bucket before each batch is submitted.
///
/// Submit outcomes are reported to the provider's circuit breaker. A failed submit or a
/// malformed source row stops the pump with an error, after the bars read before it were
/// submitted.
#[derive(Clone)]
pub struct Pump {
    rates: Arc<RateCoordinator>,
    provider: String,
    submitter: Arc<dyn BarSubmitter>,
    batch_size: u32,
    metrics: PipelineMetrics,
}

impl std::fmt::Debug for Pump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pump")
            .field("provider", &self.provider)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl Pump {
    /// A pump for `provider` (registered in `rates`) into `submitter`, one bar per batch.
    pub fn new(
        rates: Arc<RateCoordinator>,
        provider: impl Into<String>,
        submitter: Arc<dyn BarSubmitter>,
    ) -> Self {
        Self {
            rates,
            provider: provider.into(),
            submitter,
            batch_size: 1,
            metrics: PipelineMetrics::default(),
        }
    }

    /// Submits up to `batch_size` bars at a time (at least 1; at most the bucket capacity,
    /// or `acquire` refuses).
    pub fn batch_size(mut self, batch_size: u32) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Records into `metrics`.
    pub fn with_metrics(mut self, metrics: PipelineMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Pumps every bar of `bars`, then returns what was moved.
    pub async fn run<I>(&self, bars: I) -> Result<PumpStats, SourceError>
    where
        I: IntoIterator<Item = Result<Bar, SourceError>>,
    {
        let mut stats = PumpStats::default();
        let mut bars = bars.into_iter();
        let capacity = usize::try_from(self.batch_size).unwrap_or(usize::MAX);
        loop {
            let mut batch = Vec::with_capacity(capacity);
            let mut failure = None;
            for item in bars.by_ref() {
                match item {
                    Ok(bar) => batch.push(bar),
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
                if batch.len() >= capacity {
                    break;
                }
            }
            if batch.is_empty() && failure.is_none() {
                return Ok(stats);
            }
            if !batch.is_empty() {
                self.submit(batch, &mut stats).await?;
            }
            if let Some(error) = failure {
                return Err(error);
            }
        }
    }

    async fn submit(&self, batch: Vec<Bar>, stats: &mut PumpStats) -> Result<(), SourceError> {
        let n = batch.len();
        let tokens = u32::try_from(n).unwrap_or(u32::MAX);
        self.rates.acquire(&self.provider, tokens).await?;
        match self.submitter.submit(batch).await {
            Ok(()) => {
                self.rates.record_success(&self.provider)?;
                self.metrics.bars_submitted(&self.provider, n);
                stats.bars += n as u64;
                stats.batches += 1;
                Ok(())
            }
            Err(source) => {
                self.rates.record_failure(&self.provider)?;
                Err(SourceError::Submit {
                    submitted: stats.bars,
                    source,
                })
            }
        }
    }
}
