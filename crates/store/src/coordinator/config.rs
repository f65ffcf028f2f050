//! Settings of one write coordinator, with the defaults of SPEC §4.5 and validation.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use core_contracts::breaker::BreakerConfig;
use core_contracts::retry::RetryPolicy;

use super::CoordinatorError;
use crate::queue::{OverflowStrategy, Watermarks};
use crate::sink::SinkError;

/// Everything a [`WriteCoordinator`](super::WriteCoordinator) needs to know.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// Identifier in feedback events, metrics and dead-letter records (non-empty).
    pub coord_id: String,
    /// Queue capacity (default 10 000).
    pub capacity: NonZeroUsize,
    /// HARD at or above this size (default `max(1, floor(0.8 * capacity))`).
    pub high_watermark: Option<usize>,
    /// OK again at or below this size (default `floor(0.5 * capacity)`).
    pub low_watermark: Option<usize>,
    /// What a submit does on a full queue (default `block`).
    pub overflow: OverflowStrategy,
    /// Writer tasks (default 4).
    pub workers: NonZeroUsize,
    /// Most bars per sink write (default 500).
    pub batch_size: NonZeroUsize,
    /// Longest wait for a batch to fill once its first bar is in hand (default 250 ms).
    pub flush_interval: Duration,
    /// Retries of a failed write (default: 50 ms doubling to 2 s, jitter 50–100 %, no
    /// give-up deadline).
    pub retry: RetryPolicy,
    /// Which sink errors a retry may cure (default [`SinkError::is_retryable`]); the others
    /// are permanent and dead-letter the offending bars.
    pub retryable: fn(&SinkError) -> bool,
    /// Circuit breaker around the sink (default: opens after 5 failures, probes after 60 s,
    /// one probe at a time).
    pub breaker: BreakerConfig,
    /// NDJSON file that receives the batches that cannot be written.
    pub dead_letter_path: PathBuf,
    /// Pause before a worker that died is restarted (default 100 ms).
    pub restart_backoff: Duration,
}

impl CoordinatorConfig {
    /// The defaults for a coordinator named `coord_id` dead-lettering to `dead_letter_path`.
    pub fn new(coord_id: impl Into<String>, dead_letter_path: impl Into<PathBuf>) -> Self {
        Self {
            coord_id: coord_id.into(),
            capacity: nz(10_000),
            high_watermark: None,
            low_watermark: None,
            overflow: OverflowStrategy::Block,
            workers: nz(4),
            batch_size: nz(500),
            flush_interval: Duration::from_millis(250),
            retry: RetryPolicy::default(),
            retryable: SinkError::is_retryable,
            breaker: BreakerConfig::default(),
            dead_letter_path: dead_letter_path.into(),
            restart_backoff: Duration::from_millis(100),
        }
    }

    /// Checks every rule: a non-empty id, ordered watermarks and a sane retry policy.
    pub fn validate(&self) -> Result<Watermarks, CoordinatorError> {
        if self.coord_id.trim().is_empty() {
            return Err(CoordinatorError::InvalidConfig(
                "coord_id must not be empty".to_owned(),
            ));
        }
        self.retry
            .validate()
            .map_err(CoordinatorError::InvalidConfig)?;
        Ok(Watermarks::new(
            self.capacity,
            self.high_watermark,
            self.low_watermark,
        )?)
    }
}

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)
}
