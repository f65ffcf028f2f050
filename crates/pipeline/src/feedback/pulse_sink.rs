//! `PulseAdjustmentSink`: publishes every applied rate adjustment to
//! `{ns}.telemetry.rate_adjustment` on the Pulse bus.

use async_trait::async_trait;
use core_contracts::{BoxError, RateAdjustment};
use pulse::Pulse;

use super::AdjustmentSink;

/// Publishes adjustments on stream [`pulse::stream::RATE_ADJUSTMENT`] with the provider as
/// key, on the configured track (v1 leaves out `coordinator_id`).
#[derive(Debug, Clone)]
pub struct PulseAdjustmentSink {
    pulse: Pulse,
}

impl PulseAdjustmentSink {
    /// A sink publishing through `pulse`.
    pub fn new(pulse: Pulse) -> Self {
        Self { pulse }
    }
}

#[async_trait]
impl AdjustmentSink for PulseAdjustmentSink {
    async fn publish(&self, adjustment: &RateAdjustment) -> Result<(), BoxError> {
        self.pulse
            .publish(
                pulse::stream::RATE_ADJUSTMENT,
                adjustment,
                Some(&adjustment.provider),
            )
            .await?;
        Ok(())
    }
}
