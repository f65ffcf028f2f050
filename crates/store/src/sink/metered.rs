//! A sink wrapper that records `sink_writes_total` and `sink_write_latency_seconds`.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use core_contracts::Bar;

use super::{Revision, Sink, SinkError};
use crate::telemetry::SinkMetrics;

/// Wraps a sink and records every write in [`SinkMetrics`] under the inner sink's name.
#[derive(Clone)]
pub struct MeteredSink {
    inner: Arc<dyn Sink>,
    metrics: SinkMetrics,
}

impl std::fmt::Debug for MeteredSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeteredSink")
            .field("sink", &self.inner.name())
            .finish_non_exhaustive()
    }
}

impl MeteredSink {
    /// Records the writes of `inner` in `metrics`.
    pub fn new(inner: Arc<dyn Sink>, metrics: SinkMetrics) -> Self {
        metrics.prime(inner.name());
        Self { inner, metrics }
    }
}

#[async_trait]
impl Sink for MeteredSink {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn write(&self, batch: &[Bar], revisions: &[Revision]) -> Result<(), SinkError> {
        let started = Instant::now();
        let result = self.inner.write(batch, revisions).await;
        self.metrics.record_write(
            self.inner.name(),
            result.is_ok(),
            started.elapsed().as_secs_f64(),
        );
        result
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
