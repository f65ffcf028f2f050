//! `FeedbackConsumer`: the pipeline's reader of `{ns}.telemetry.feedback`, a broadcast
//! reader ([`pulse::Broadcast`]) feeding the [`FeedbackHandler`].
//!
//! Feedback is a broadcast of state, not work to share: every pipeline (and any observer)
//! reads every event through a read cursor of its own, with no consumer group, so none takes
//! events from another and nothing is left in Redis when one goes. At start it replays the
//! stream's recent history ([`HISTORY`] entries; events older than the staleness window are
//! refused by the handler), so that it knows the current level of every live store before
//! the pipeline publishes. A bus error makes it back off, reopen and replay the history
//! again: an event missed meanwhile is superseded by the stores' heartbeats.

use std::sync::Arc;
use std::time::Duration;

use core_contracts::retry::{Backoff, RetryPolicy, wait_unless};
use core_contracts::{Clock, EventEnvelope, FeedbackEvent, TokioClock};
use pulse::{Broadcast, BusError, CancellationToken, Pulse, RunnerReport};
use tokio::task::JoinHandle;

use super::FeedbackHandler;
use crate::telemetry;

/// Entries of the feedback stream replayed at start: enough for the last staleness window
/// of many stores (each heartbeats every 5 s).
pub const HISTORY: usize = 1000;

/// Reopening the stream after a bus error waits 100 ms doubling to 5 s.
const RECONNECT: RetryPolicy =
    RetryPolicy::doubling(Duration::from_millis(100), Duration::from_secs(5));

/// Reads every feedback event and hands it to a [`FeedbackHandler`].
///
/// [`FeedbackConsumer::catch_up`] replays the recent history (call it before the pipeline
/// publishes); [`FeedbackConsumer::run`] (or [`FeedbackConsumer::spawn`]) follows the stream
/// until the shutdown token is cancelled. The handler's silence ticker is separate: start it
/// with [`FeedbackHandler::spawn_ticker`].
#[derive(Debug)]
pub struct FeedbackConsumer {
    pulse: Pulse,
    handler: Arc<FeedbackHandler>,
    name: String,
    reader: Option<Broadcast<FeedbackEvent>>,
    report: RunnerReport,
}

impl FeedbackConsumer {
    /// A consumer on `pulse`'s feedback stream, called `name` in logs (see
    /// [`crate::config::FeedbackSettings::consumer_name`]).
    pub fn new(pulse: Pulse, handler: Arc<FeedbackHandler>, name: impl Into<String>) -> Self {
        Self {
            pulse,
            handler,
            name: name.into(),
            reader: None,
            report: RunnerReport::default(),
        }
    }

    /// The consumer's name.
    pub fn consumer_name(&self) -> &str {
        &self.name
    }

    /// Opens the stream and applies its recent history; returns how many events were
    /// handled. On an error the stream is opened again by [`FeedbackConsumer::run`].
    pub async fn catch_up(&mut self) -> Result<usize, BusError> {
        let mut reader = self
            .pulse
            .broadcast::<FeedbackEvent>(pulse::stream::FEEDBACK)
            .await?;
        let history = reader.history(HISTORY).await?;
        let n = history.len();
        self.handle_all(history).await;
        self.reader = Some(reader);
        Ok(n)
    }

    /// Follows the stream until `shutdown` is cancelled; returns what was done
    /// (`duplicates` and `dead_lettered` stay 0: a broadcast reader has neither).
    pub async fn run(mut self, shutdown: CancellationToken) -> RunnerReport {
        let stream = self.pulse.stream(pulse::stream::FEEDBACK);
        telemetry::feedback_consumer_started(stream.full(), &self.name);
        let clock = TokioClock::new();
        let mut backoff = Backoff::new(RECONNECT);
        while !shutdown.is_cancelled() {
            let error = match self.follow(&shutdown, &mut backoff).await {
                Ok(()) => break,
                Err(error) => error,
            };
            self.reader = None;
            self.report.restarts += 1;
            let wait = backoff
                .fail(clock.elapsed(), rand::random())
                .unwrap_or(RECONNECT.max_backoff);
            tracing::warn!(stream = stream.full(), consumer = self.name, %error, retry_in_ms = wait.as_millis(),
                "feedback consumer reopening after a bus error");
            if !wait_unless(wait, shutdown.cancelled()).await {
                break;
            }
        }
        telemetry::feedback_consumer_stopped(stream.full(), &self.name, &self.report);
        self.report
    }

    /// Spawns [`FeedbackConsumer::run`] on the current tokio runtime.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<RunnerReport> {
        tokio::spawn(self.run(shutdown))
    }

    async fn follow(
        &mut self,
        shutdown: &CancellationToken,
        backoff: &mut Backoff,
    ) -> Result<(), BusError> {
        if self.reader.is_none() {
            self.catch_up().await?;
            backoff.succeed();
        }
        loop {
            let Some(reader) = self.reader.as_mut() else {
                return Ok(());
            };
            let batch = tokio::select! {
                biased;
                () = shutdown.cancelled() => return Ok(()),
                batch = reader.try_next_batch() => batch?,
            };
            if !batch.is_empty() {
                backoff.succeed();
                self.handle_all(batch).await;
            }
        }
    }

    async fn handle_all(&mut self, events: Vec<EventEnvelope<FeedbackEvent>>) {
        for event in events {
            match self.handler.handle_envelope(&event).await {
                Ok(outcome) => {
                    self.report.handled += 1;
                    tracing::debug!(
                        id = event.id,
                        outcome = outcome.as_str(),
                        "feedback event handled"
                    );
                }
                Err(error) => {
                    // The level is admitted; applying it is retried by the next event or tick.
                    self.report.failed += 1;
                    tracing::warn!(id = event.id, %error, "feedback not applied yet");
                }
            }
        }
    }
}
