//! `RejectingSink`: refuses, with a permanent error, every batch holding a bar of a listed
//! symbol. Operators use it for dead-letter drills (a batch the sink will never take goes
//! to the dead-letter file and its bus entries are acknowledged); the end-to-end tests use
//! it the same way.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use core_contracts::Bar;
use store::sink::{Revision, Sink, SinkError};

/// The environment variable listing the refused symbols, comma-separated.
pub const REJECT_SYMBOLS_VAR: &str = "MDP_SINK_REJECT_SYMBOLS";

/// A sink that refuses batches with a bar of one of `symbols`.
pub struct RejectingSink {
    inner: Arc<dyn Sink>,
    symbols: BTreeSet<String>,
}

impl std::fmt::Debug for RejectingSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RejectingSink")
            .field("sink", &self.inner.name())
            .field("symbols", &self.symbols)
            .finish()
    }
}

impl RejectingSink {
    /// `inner`, refusing the symbols of the comma-separated `list` (blanks ignored).
    pub fn new(inner: Arc<dyn Sink>, list: &str) -> Self {
        let symbols = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Self { inner, symbols }
    }

    /// The symbols refused.
    pub fn symbols(&self) -> &BTreeSet<String> {
        &self.symbols
    }
}

#[async_trait]
impl Sink for RejectingSink {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn write(&self, batch: &[Bar], revisions: &[Revision]) -> Result<(), SinkError> {
        if let Some(bar) = batch.iter().find(|b| self.symbols.contains(&b.symbol)) {
            return Err(SinkError::Permanent(format!(
                "simulated rejection: symbol {} is listed in {REJECT_SYMBOLS_VAR}",
                bar.symbol
            )));
        }
        self.inner.write(batch, revisions).await
    }

    async fn flush(&self) -> Result<(), SinkError> {
        self.inner.flush().await
    }

    async fn close(&self) -> Result<(), SinkError> {
        self.inner.close().await
    }

    async fn ready(&self) -> bool {
        self.inner.ready().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::sink::MemorySink;

    fn bar(symbol: &str) -> Bar {
        serde_json::from_value(serde_json::json!({
            "provider": "p", "symbol": symbol, "resolution": "1m",
            "ts": "2024-01-02T14:30:00Z", "open": "1", "high": "2", "low": "1",
            "close": "2", "volume": "10"
        }))
        .expect("valid bar")
    }

    #[tokio::test]
    async fn batches_with_a_listed_symbol_fail_for_good_and_others_pass() {
        let inner = Arc::new(MemorySink::new());
        let sink = RejectingSink::new(inner.clone(), " GOOG, ,BAD ");
        assert_eq!(sink.symbols().len(), 2);
        let refused = sink
            .write(&[bar("AAPL"), bar("GOOG")], &[Revision::new(1); 2])
            .await;
        assert!(
            matches!(refused, Err(SinkError::Permanent(_))),
            "{refused:?}"
        );
        sink.write(&[bar("AAPL")], &[Revision::new(1)])
            .await
            .expect("written");
        assert_eq!(inner.len(), 1);
    }
}
