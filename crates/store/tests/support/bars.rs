//! Deterministic bars for sink tests and benchmarks.

#![allow(dead_code)]

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use core_contracts::Bar;
use rust_decimal::Decimal;
use store::sink::{Revision, Sink, SinkError};

/// Writes a batch whose bars all have one revision.
#[async_trait]
pub(crate) trait WriteAt {
    /// [`Sink::write`] of `bars`, each at revision `revision`.
    async fn write_at(&self, bars: &[Bar], revision: i64) -> Result<(), SinkError>;
}

#[async_trait]
impl<S: Sink + ?Sized> WriteAt for S {
    async fn write_at(&self, bars: &[Bar], revision: i64) -> Result<(), SinkError> {
        self.write(bars, &vec![Revision::new(revision); bars.len()])
            .await
    }
}

/// `n` distinct bars of `symbol` a minute apart, prices with trailing zeros kept (`"100.10"`).
pub(crate) fn bars(symbol: &str, n: usize) -> Vec<Bar> {
    let start = DateTime::parse_from_rfc3339("2024-05-01T13:30:00Z")
        .expect("valid start")
        .with_timezone(&Utc);
    (0..n)
        .map(|i| {
            let cents = i64::try_from(i % 10_000).expect("small index");
            let low = Decimal::new(10_000 + cents * 10, 2);
            Bar {
                provider: "test".to_owned(),
                symbol: symbol.to_owned(),
                resolution: "1m".to_owned(),
                ts: start + Duration::minutes(i64::try_from(i).expect("small index")),
                open: low + Decimal::new(10, 2),
                high: low + Decimal::new(50, 2),
                low,
                close: low + Decimal::new(20, 2),
                volume: Decimal::new(1_000 + cents, 0),
                delayed: i % 2 == 1,
            }
        })
        .collect()
}

/// `bar` with a new close (and high raised to cover it).
pub(crate) fn with_close(bar: &Bar, close: &str) -> Bar {
    let close: Decimal = close.parse().expect("valid decimal");
    Bar {
        close,
        high: bar.high.max(close),
        low: bar.low.min(close),
        open: bar.open,
        ..bar.clone()
    }
}
