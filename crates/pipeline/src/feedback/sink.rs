//! Where applied rate adjustments are published: the [`AdjustmentSink`] seam and two
//! in-process implementations (the bus-backed one is [`super::PulseAdjustmentSink`]).

use async_trait::async_trait;
use core_contracts::{BoxError, RateAdjustment};
use tokio::sync::mpsc;

/// Receives every rate adjustment the handler has applied, in the order applied; the
/// Pulse-backed implementation publishes it to `{ns}.telemetry.rate_adjustment`.
///
/// An error is logged and counted by the handler; the adjustment stays in force.
#[async_trait]
pub trait AdjustmentSink: Send + Sync + std::fmt::Debug {
    /// Publishes `adjustment`.
    async fn publish(&self, adjustment: &RateAdjustment) -> Result<(), BoxError>;
}

/// Drops every adjustment (feedback applied locally, nothing published).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopSink;

#[async_trait]
impl AdjustmentSink for NoopSink {
    async fn publish(&self, _adjustment: &RateAdjustment) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Sends every adjustment down an unbounded channel (tests, in-process observers).
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::UnboundedSender<RateAdjustment>,
}

impl ChannelSink {
    /// A sink and the receiving end of its channel.
    pub fn new() -> (Self, mpsc::UnboundedReceiver<RateAdjustment>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, rx)
    }
}

#[async_trait]
impl AdjustmentSink for ChannelSink {
    async fn publish(&self, adjustment: &RateAdjustment) -> Result<(), BoxError> {
        self.tx
            .send(adjustment.clone())
            .map_err(|_| "adjustment channel closed".into())
    }
}
