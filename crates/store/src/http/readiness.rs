//! Readiness checks: anything that can say, now, whether a part of the service can take work.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

use crate::sink::Sink;

/// Whether one part of the service (the sink, the bus) can take work now.
///
/// Any `Fn() -> impl Future<Output = bool>` closure is a check.
#[async_trait]
pub trait ReadinessCheck: Send + Sync {
    /// `true` when ready.
    async fn ready(&self) -> bool;
}

#[async_trait]
impl<F, Fut> ReadinessCheck for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = bool> + Send,
{
    async fn ready(&self) -> bool {
        self().await
    }
}

/// A check asking `sink` whether it can take writes ([`Sink::ready`]).
pub fn sink_readiness(sink: Arc<dyn Sink>) -> Arc<dyn ReadinessCheck> {
    Arc::new(move || {
        let sink = Arc::clone(&sink);
        async move { sink.ready().await }
    })
}
