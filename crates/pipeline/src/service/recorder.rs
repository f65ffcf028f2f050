//! [`ScaleRecorder`]: the rate controller between the feedback handler and the rate
//! coordinator, remembering the scale and level in force and how long each scale held.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::{BackpressureLevel, BoxError, RateAdjustment, RateController};
use tokio::time::Instant;

use crate::{RateCoordinator, RateCoordinatorAdapter};

/// Applies adjustments to the rate coordinator and records the time spent at each scale.
#[derive(Debug)]
pub struct ScaleRecorder {
    inner: RateCoordinatorAdapter,
    state: Mutex<ScaleState>,
}

#[derive(Debug)]
struct ScaleState {
    scale: f64,
    level: BackpressureLevel,
    since: Instant,
    spent: BTreeMap<String, Duration>,
    adjustments: u64,
}

impl ScaleRecorder {
    /// A recorder over `rates`, starting at scale 1 now.
    pub fn new(rates: Arc<RateCoordinator>) -> Self {
        Self {
            inner: RateCoordinatorAdapter::new(rates),
            state: Mutex::new(ScaleState {
                scale: 1.0,
                level: BackpressureLevel::Ok,
                since: Instant::now(),
                spent: BTreeMap::new(),
                adjustments: 0,
            }),
        }
    }

    /// The scale and level in force.
    pub fn current(&self) -> (f64, BackpressureLevel) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        (state.scale, state.level)
    }

    /// Seconds spent at each scale (formatted `{:.2}`) so far, and the adjustments applied.
    pub fn spent(&self) -> (BTreeMap<String, f64>, u64) {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut spent = state.spent.clone();
        *spent.entry(scale_label(state.scale)).or_default() += state.since.elapsed();
        let spent = spent
            .into_iter()
            .map(|(scale, d)| (scale, d.as_secs_f64()))
            .collect();
        (spent, state.adjustments)
    }
}

/// The label of a scale in the summary.
pub(super) fn scale_label(scale: f64) -> String {
    format!("{scale:.2}")
}

#[async_trait]
impl RateController for ScaleRecorder {
    async fn apply(&self, adjustment: RateAdjustment) -> Result<(), BoxError> {
        let (scale, level) = (adjustment.scale, adjustment.reason);
        self.inner.apply(adjustment).await?;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let held = now - state.since;
        let label = scale_label(state.scale);
        *state.spent.entry(label).or_default() += held;
        state.scale = scale;
        state.level = level;
        state.since = now;
        state.adjustments += 1;
        Ok(())
    }
}
