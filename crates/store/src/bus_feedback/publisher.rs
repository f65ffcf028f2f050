//! [`PulseFeedbackPublisher`]: a `FeedbackPublisher` that writes each event to the feedback
//! stream with `key = coordinator_id`, the configured track, and headers `reason` (when set)
//! and `utilization` (`{:.6}`).

use async_trait::async_trait;
use core_contracts::{
    BoxError, FeedbackEvent, FeedbackPublisher, LEAVING_HEADER, REASON_LEAVING, WireEvent,
};
use pulse::{BusError, Pulse};

/// Publishes feedback events on `{ns}.telemetry.feedback`. Attach it to the
/// [`FeedbackBus`](crate::feedback::FeedbackBus): its failures are counted there and in
/// `pulse_publish_total{outcome="error"}`, and never reach the queue.
#[derive(Debug, Clone)]
pub struct PulseFeedbackPublisher {
    pulse: Pulse,
}

impl PulseFeedbackPublisher {
    /// A publisher on `pulse`.
    pub fn new(pulse: Pulse) -> Self {
        Self { pulse }
    }

    /// The envelope `event` is published in: on v1 the payload carries the core fields only
    /// and the store extension travels in the headers.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use core_contracts::{BackpressureLevel, FeedbackEvent};
    /// use pulse::{Pulse, PulseConfig, backend::memory::InMemoryBus};
    /// use store::bus_feedback::PulseFeedbackPublisher;
    /// let publisher = PulseFeedbackPublisher::new(Pulse::new(Arc::new(InMemoryBus::new()), PulseConfig::default()));
    /// let event = FeedbackEvent::new("bars-coord", 80, 100, BackpressureLevel::Soft, 1.0)
    ///     .expect("valid")
    ///     .with_reason("high_watermark");
    /// let wire = publisher.envelope(&event).expect("seals");
    /// assert_eq!(wire.key.as_deref(), Some("bars-coord"));
    /// assert_eq!(wire.meta.headers["utilization"], "0.800000");
    /// assert_eq!(wire.meta.headers["reason"], "high_watermark");
    /// assert_eq!(wire.payload.reason, None);
    /// ```
    pub fn envelope(&self, event: &FeedbackEvent) -> Result<WireEvent<FeedbackEvent>, BusError> {
        let mut wire = self
            .pulse
            .seal(event, Some(&event.coordinator_id))?
            .with_header("utilization", format!("{:.6}", event.utilization()));
        if let Some(reason) = &event.reason {
            wire = wire.with_header("reason", reason.clone());
        }
        Ok(wire)
    }

    /// Publishes `event`; returns the entry id.
    pub async fn publish_event(&self, event: &FeedbackEvent) -> Result<String, BusError> {
        let wire = self.envelope(event)?;
        self.pulse
            .publish_event(pulse::stream::FEEDBACK, &wire)
            .await
    }

    /// Publishes the coordinator's goodbye: `event` (its current state) with reason
    /// `store_stopping` and header `leaving: true`, so that pipelines drop it at once.
    /// Publish it after the coordinator's last event.
    pub async fn publish_goodbye(&self, event: FeedbackEvent) -> Result<String, BusError> {
        let event = event.with_reason(REASON_LEAVING);
        let wire = self.envelope(&event)?.with_header(LEAVING_HEADER, "true");
        self.pulse
            .publish_event(pulse::stream::FEEDBACK, &wire)
            .await
    }
}

#[async_trait]
impl FeedbackPublisher for PulseFeedbackPublisher {
    async fn publish(&self, event: FeedbackEvent) -> Result<(), BoxError> {
        self.publish_event(&event)
            .await
            .map(drop)
            .map_err(Into::into)
    }
}
