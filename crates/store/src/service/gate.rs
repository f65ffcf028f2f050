//! `ReadGate`: whether the store service may read new bars from the bus. An operator pauses
//! it (`POST /admin/pause`) and resumes it; the reader parks at the gate between bars, so
//! the bars already in hand still reach the sink while no new ones are taken.

use std::time::Duration;

use pulse::CancellationToken;
use tokio::sync::watch;

/// The open/paused switch between the bus and the store's reader.
#[derive(Debug)]
pub(super) struct ReadGate {
    paused: watch::Sender<bool>,
    parked: watch::Sender<bool>,
}

impl Default for ReadGate {
    fn default() -> Self {
        Self {
            paused: watch::Sender::new(false),
            parked: watch::Sender::new(false),
        }
    }
}

impl ReadGate {
    /// Asks the reader to stop taking new bars; false when it was already paused.
    pub(super) fn pause(&self) -> bool {
        !self.paused.send_replace(true)
    }

    /// Lets the reader take new bars again; false when it was not paused.
    pub(super) fn resume(&self) -> bool {
        self.paused.send_replace(false)
    }

    /// Whether a pause is in force.
    pub(super) fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Resolves once a pause is in force (at once if it already is).
    pub(super) async fn pause_requested(&self) {
        let mut rx = self.paused.subscribe();
        // The sender lives in `self`: the wait ends only when the value matches.
        let _ = rx.wait_for(|paused| *paused).await;
    }

    /// For the reader: while paused, reports itself parked and waits for a resume or `stop`.
    pub(super) async fn wait_open(&self, stop: &CancellationToken) {
        let mut rx = self.paused.subscribe();
        if !*rx.borrow_and_update() {
            return;
        }
        self.parked.send_replace(true);
        tracing::info!("reading paused: no new bars are taken from the bus");
        tokio::select! {
            _ = rx.wait_for(|paused| !*paused) => {
                tracing::info!("reading resumed");
            }
            () = stop.cancelled() => {}
        }
        self.parked.send_replace(false);
    }

    /// Whether the reader is parked at the gate within `timeout`.
    pub(super) async fn parked_within(&self, timeout: Duration) -> bool {
        let mut rx = self.parked.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|parked| *parked))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_reader_parks_while_paused_and_goes_on_after_resume() {
        let gate = Arc::new(ReadGate::default());
        let stop = CancellationToken::new();
        gate.wait_open(&stop).await;
        assert!(!gate.parked_within(Duration::from_millis(10)).await);

        assert!(gate.pause());
        assert!(!gate.pause(), "already paused");
        gate.pause_requested().await;
        let reader = tokio::spawn({
            let (gate, stop) = (Arc::clone(&gate), stop.clone());
            async move { gate.wait_open(&stop).await }
        });
        assert!(gate.parked_within(Duration::from_secs(1)).await);
        assert!(!reader.is_finished());
        assert!(gate.resume());
        assert!(!gate.resume(), "not paused any more");
        reader.await.expect("reader goes on");
        assert!(!gate.is_paused());
    }

    #[tokio::test(start_paused = true)]
    async fn stop_releases_a_parked_reader() {
        let gate = ReadGate::default();
        let stop = CancellationToken::new();
        gate.pause();
        stop.cancel();
        gate.wait_open(&stop).await;
        assert!(gate.is_paused());
    }
}
