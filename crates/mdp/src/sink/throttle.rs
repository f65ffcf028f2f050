//! `ThrottledSink`: a sink that writes at most a fixed number of bars per second, to make a
//! fast sink behave like a slow one (demonstrations and end-to-end tests of the feedback loop).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::Bar;
use store::sink::{Revision, Sink, SinkError};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Serialises writes through one schedule: a batch of `n` bars occupies the sink for
/// `n / rate` seconds after the previous batch, whatever the number of workers.
pub struct ThrottledSink {
    inner: Arc<dyn Sink>,
    per_bar: Duration,
    next_free: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for ThrottledSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThrottledSink")
            .field("sink", &self.inner.name())
            .field("per_bar", &self.per_bar)
            .finish()
    }
}

impl ThrottledSink {
    /// `inner` limited to `bars_per_sec` (a finite number > 0, checked by the caller).
    pub fn new(inner: Arc<dyn Sink>, bars_per_sec: f64) -> Self {
        Self {
            inner,
            per_bar: Duration::from_secs_f64(1.0 / bars_per_sec),
            next_free: Mutex::new(None),
        }
    }

    async fn reserve(&self, bars: usize) -> Instant {
        let mut next_free = self.next_free.lock().await;
        let now = Instant::now();
        let start = next_free.map_or(now, |t| t.max(now));
        let done = start
            + self
                .per_bar
                .saturating_mul(u32::try_from(bars).unwrap_or(u32::MAX));
        *next_free = Some(done);
        done
    }
}

#[async_trait]
impl Sink for ThrottledSink {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn write(&self, batch: &[Bar], revisions: &[Revision]) -> Result<(), SinkError> {
        let done = self.reserve(batch.len()).await;
        tokio::time::sleep_until(done).await;
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

    #[tokio::test(start_paused = true)]
    async fn batches_share_one_schedule() {
        let sink = ThrottledSink::new(Arc::new(MemorySink::new()), 100.0);
        let start = Instant::now();
        sink.write(&[], &[]).await.expect("writes");
        let a = sink.reserve(50).await;
        let b = sink.reserve(50).await;
        assert_eq!(a - start, Duration::from_millis(500));
        assert_eq!(b - start, Duration::from_secs(1));
    }
}
