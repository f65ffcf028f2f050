//! `FeedbackConsumer`: the pipeline's consumer of `{ns}.telemetry.feedback` on the Pulse bus,
//! a supervised [`pulse::ConsumerRunner`] in group [`GROUP`] feeding the [`FeedbackHandler`].
//!
//! Delivery is at-least-once: an event is acknowledged only after the handler succeeded, a
//! handler error sends it back for redelivery (and, after `PULSE_MAX_DELIVERIES`, to the
//! dead-letter stream), and an idempotency LRU of handled entry ids keeps a redelivered
//! event from being applied twice.

use std::sync::Arc;

use async_trait::async_trait;
use core_contracts::{BoxError, EventEnvelope, FeedbackEvent};
use pulse::{CancellationToken, ConsumerRunner, Handler, Idempotency, Pulse, RunnerReport};
use tokio::task::JoinHandle;

use super::FeedbackHandler;
use crate::telemetry;

/// The consumer group of every pipeline on the feedback stream.
pub const GROUP: &str = "pipeline";

/// Each decoded feedback event goes to [`FeedbackHandler::handle`]; an error (the rate
/// controller refused the adjustment) makes the runner fail the entry for redelivery.
#[async_trait]
impl Handler<FeedbackEvent> for FeedbackHandler {
    async fn handle(&self, event: &EventEnvelope<FeedbackEvent>) -> Result<(), BoxError> {
        let outcome = FeedbackHandler::handle(self, event.payload.clone()).await?;
        tracing::debug!(id = event.id, ?outcome, "feedback event handled");
        Ok(())
    }
}

/// Reads the feedback stream as one consumer of group [`GROUP`] and hands every event to a
/// [`FeedbackHandler`].
///
/// Run it with [`FeedbackConsumer::run`] (or [`FeedbackConsumer::spawn`]) until the shutdown
/// token is cancelled; bus errors are logged and the subscription is re-opened with backoff.
/// The handler's silence ticker is separate: start it with
/// [`FeedbackHandler::spawn_ticker`].
#[derive(Debug)]
pub struct FeedbackConsumer {
    pulse: Pulse,
    handler: Arc<FeedbackHandler>,
    consumer_name: String,
    seen: Option<Arc<Idempotency>>,
}

impl FeedbackConsumer {
    /// A consumer named `consumer_name` (unique per process, see
    /// [`crate::config::FeedbackSettings::consumer_name`]) on `pulse`'s feedback stream.
    pub fn new(
        pulse: Pulse,
        handler: Arc<FeedbackHandler>,
        consumer_name: impl Into<String>,
    ) -> Self {
        Self {
            pulse,
            handler,
            consumer_name: consumer_name.into(),
            seen: None,
        }
    }

    /// Remembers handled ids in `seen` instead of a private LRU sized by
    /// `PULSE_IDEMPOTENCY_CAPACITY` (e.g. one set shared by successive consumers).
    pub fn with_idempotency(mut self, seen: Arc<Idempotency>) -> Self {
        self.seen = Some(seen);
        self
    }

    /// The consumer name.
    pub fn consumer_name(&self) -> &str {
        &self.consumer_name
    }

    /// Consumes until `shutdown` is cancelled, finishing the event in hand; returns what was
    /// done.
    pub async fn run(self, shutdown: CancellationToken) -> RunnerReport {
        let stream = self.pulse.stream(pulse::stream::FEEDBACK);
        telemetry::feedback_consumer_started(stream.full(), GROUP, &self.consumer_name);
        let mut runner = ConsumerRunner::<FeedbackEvent, _>::new(
            self.pulse,
            pulse::stream::FEEDBACK,
            GROUP,
            &self.consumer_name,
            self.handler,
        );
        if let Some(seen) = self.seen {
            runner = runner.with_idempotency(seen);
        }
        let report = runner.run(shutdown).await;
        telemetry::feedback_consumer_stopped(stream.full(), &self.consumer_name, &report);
        report
    }

    /// Spawns [`FeedbackConsumer::run`] on the current tokio runtime.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<RunnerReport> {
        tokio::spawn(self.run(shutdown))
    }
}
