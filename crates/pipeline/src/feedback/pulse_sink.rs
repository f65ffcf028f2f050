//! `PulseAdjustmentSink`: publishes every applied rate adjustment to
//! `{ns}.telemetry.rate_adjustment` on the Pulse bus.

use async_trait::async_trait;
use core_contracts::{BoxError, RateAdjustment};
use pulse::Pulse;

use super::AdjustmentSink;

/// The header naming the pipeline that applied an adjustment (its id, as in the
/// orchestrator's topology); readers that do not know it ignore it.
pub const PIPELINE_HEADER: &str = "pipeline";

/// Publishes adjustments on stream [`pulse::stream::RATE_ADJUSTMENT`] with the provider as
/// key, on the configured track (v1 leaves out `coordinator_id`), and the pipeline's id in
/// the header [`PIPELINE_HEADER`] when it has one.
#[derive(Debug, Clone)]
pub struct PulseAdjustmentSink {
    pulse: Pulse,
    pipeline: Option<String>,
}

impl PulseAdjustmentSink {
    /// A sink publishing through `pulse`.
    pub fn new(pulse: Pulse) -> Self {
        Self {
            pulse,
            pipeline: None,
        }
    }

    /// Names the pipeline `id` in every adjustment's [`PIPELINE_HEADER`].
    pub fn with_pipeline(mut self, id: impl Into<String>) -> Self {
        self.pipeline = Some(id.into());
        self
    }
}

#[async_trait]
impl AdjustmentSink for PulseAdjustmentSink {
    async fn publish(&self, adjustment: &RateAdjustment) -> Result<(), BoxError> {
        let mut event = self.pulse.seal(adjustment, Some(&adjustment.provider))?;
        if let Some(id) = &self.pipeline {
            event
                .meta
                .headers
                .insert(PIPELINE_HEADER.to_owned(), id.clone());
        }
        self.pulse
            .publish_event(pulse::stream::RATE_ADJUSTMENT, &event)
            .await?;
        Ok(())
    }
}
