//! The store service's side of at-least-once delivery: [`AckingSink`] reports the entries
//! whose bars were written, [`spawn_acker`] acknowledges them on the bus (retrying while the
//! bus is down), and [`spawn_toucher`] keeps the entries in hand from being reclaimed by
//! another store while they wait in the queue.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::Bar;
use prometheus_client::metrics::counter::Counter;
use pulse::{CancellationToken, Pulse};
use store::sink::{Sink, SinkError};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::STORE_GROUP;
use super::tracker::InFlight;

const ACK_BATCH: usize = 1000;
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A sink that, after each successful write, sends the entry ids of the bars written to
/// the acker.
pub struct AckingSink {
    inner: Arc<dyn Sink>,
    held: Arc<InFlight>,
    acks: mpsc::UnboundedSender<Vec<String>>,
}

impl AckingSink {
    /// `inner`, reporting to `acks` the entries of `held` it wrote.
    pub fn new(
        inner: Arc<dyn Sink>,
        held: Arc<InFlight>,
        acks: mpsc::UnboundedSender<Vec<String>>,
    ) -> Self {
        Self { inner, held, acks }
    }
}

#[async_trait]
impl Sink for AckingSink {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn write(&self, batch: &[Bar]) -> Result<(), SinkError> {
        self.inner.write(batch).await?;
        let ids = self.held.written(batch);
        if !ids.is_empty() && self.acks.send(ids).is_err() {
            tracing::warn!("acker gone: written entries stay pending and will be redelivered");
        }
        Ok(())
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

/// Acknowledges the ids received until `finish` is cancelled and the channel is empty, or
/// `give_up` is cancelled (what is not acknowledged then stays pending: redelivered later).
pub fn spawn_acker(
    pulse: Pulse,
    mut rx: mpsc::UnboundedReceiver<Vec<String>>,
    acked: Counter,
    finish: CancellationToken,
    give_up: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let key = pulse.stream(pulse::stream::BARS).key().to_owned();
        let mut batches = Vec::new();
        loop {
            let got = tokio::select! {
                n = rx.recv_many(&mut batches, ACK_BATCH) => n,
                () = finish.cancelled() => {
                    while let Ok(ids) = rx.try_recv() {
                        batches.push(ids);
                    }
                    0
                }
            };
            let ids: Vec<String> = batches.drain(..).flatten().collect();
            if !ids.is_empty() {
                ack(&pulse, &key, &ids, &give_up).await;
                acked.inc_by(ids.len() as u64);
            }
            if got == 0 {
                return;
            }
        }
    })
}

async fn ack(pulse: &Pulse, key: &str, ids: &[String], give_up: &CancellationToken) {
    let mut backoff = Duration::from_millis(50);
    loop {
        match pulse.backend().ack(key, STORE_GROUP, ids).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, entries = ids.len(), ?backoff, "ack failed, retrying");
                tokio::select! {
                    () = give_up.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Refreshes the idle time of every entry held, every third of the idle timeout, until
/// `stop` is cancelled.
pub fn spawn_toucher(
    pulse: Pulse,
    consumer: String,
    held: Arc<InFlight>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let key = pulse.stream(pulse::stream::BARS).key().to_owned();
        let every = (pulse.config().idle_timeout / 3).max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval(every);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let ids = held.ids();
            for chunk in ids.chunks(ACK_BATCH) {
                if let Err(error) = pulse
                    .backend()
                    .touch(&key, STORE_GROUP, &consumer, chunk)
                    .await
                {
                    tracing::warn!(%error, "cannot refresh the entries in hand");
                    break;
                }
            }
        }
    })
}
