//! `RateCoordinatorAdapter`: the [`RateController`] seam over a [`RateCoordinator`].

use std::sync::Arc;

use async_trait::async_trait;
use core_contracts::{BoxError, RateAdjustment, RateController};

use super::RateCoordinator;

/// Applies a [`RateAdjustment`] by setting the provider's budget scale and pressure level.
#[derive(Debug, Clone)]
pub struct RateCoordinatorAdapter {
    coordinator: Arc<RateCoordinator>,
}

impl RateCoordinatorAdapter {
    /// An adapter over `coordinator`.
    pub fn new(coordinator: Arc<RateCoordinator>) -> Self {
        Self { coordinator }
    }

    /// The coordinator adjusted.
    pub fn coordinator(&self) -> &Arc<RateCoordinator> {
        &self.coordinator
    }
}

#[async_trait]
impl RateController for RateCoordinatorAdapter {
    async fn apply(&self, adjustment: RateAdjustment) -> Result<(), BoxError> {
        self.coordinator
            .set_budget_scale(&adjustment.provider, adjustment.scale)?;
        self.coordinator
            .set_global_pressure(&adjustment.provider, adjustment.reason)?;
        Ok(())
    }
}
