//! Shared helpers of the store's behaviour tests: bars and coordinator configs.

#![allow(dead_code)]

use std::num::NonZeroUsize;
use std::path::Path;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use core_contracts::Bar;
use rust_decimal::Decimal;
use store::coordinator::CoordinatorConfig;

pub(crate) mod faults;

/// A valid bar, unique by `i`.
pub(crate) fn bar(i: usize) -> Bar {
    let ts = Utc
        .with_ymd_and_hms(2024, 5, 1, 13, 30, 0)
        .single()
        .expect("valid date")
        + chrono::Duration::minutes(i as i64);
    Bar {
        provider: "test".to_owned(),
        symbol: "AAPL".to_owned(),
        resolution: "1m".to_owned(),
        ts,
        open: Decimal::new(18725, 2),
        high: Decimal::new(18790, 2),
        low: Decimal::new(18710, 2),
        close: Decimal::new(18780, 2),
        volume: Decimal::new(12_000 + i as i64, 0),
        delayed: false,
    }
}

/// Bars `0..n`.
pub(crate) fn bars(n: usize) -> Vec<Bar> {
    (0..n).map(bar).collect()
}

/// A non-zero size.
pub(crate) fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("non-zero")
}

/// A coordinator config dead-lettering into `dir`, with `workers` workers and batches of
/// `batch` bars.
pub(crate) fn config(dir: &Path, workers: usize, batch: usize) -> CoordinatorConfig {
    let mut config = CoordinatorConfig::new("test-coord", dir.join("dead-letters.ndjson"));
    config.workers = nz(workers);
    config.batch_size = nz(batch);
    config.flush_interval = Duration::from_millis(20);
    config
}
