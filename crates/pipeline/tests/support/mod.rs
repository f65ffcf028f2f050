//! Shared test doubles: a recording rate controller, a recording bar submitter, a failing
//! adjustment sink, an environment built from pairs, and the Pulse bus on each backend
//! ([`bus`]).

#![allow(dead_code)]

pub(crate) mod bus;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use core_contracts::{Bar, BoxError, RateAdjustment, RateController};
use pipeline::AdjustmentSink;
use pipeline::BarSubmitter;

/// Records every adjustment; refuses them while `fail` is set, counting the refusals.
#[derive(Debug, Default)]
pub(crate) struct RecordingController {
    pub applied: Mutex<Vec<RateAdjustment>>,
    pub fail: AtomicBool,
    pub refused: AtomicU64,
}

impl RecordingController {
    pub(crate) fn applied(&self) -> Vec<RateAdjustment> {
        self.applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn scales(&self) -> Vec<f64> {
        self.applied().iter().map(|a| a.scale).collect()
    }
}

#[async_trait]
impl RateController for RecordingController {
    async fn apply(&self, adjustment: RateAdjustment) -> Result<(), BoxError> {
        if self.fail.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err("controller refused".into());
        }
        self.applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(adjustment);
        Ok(())
    }
}

/// A sink that always fails.
#[derive(Debug, Default)]
pub(crate) struct FailingSink;

#[async_trait]
impl AdjustmentSink for FailingSink {
    async fn publish(&self, _adjustment: &RateAdjustment) -> Result<(), BoxError> {
        Err("bus down".into())
    }
}

/// Records every batch; fails from the `fail_from`-th batch on (0-based), if set.
#[derive(Debug, Default)]
pub(crate) struct RecordingSubmitter {
    pub batches: Mutex<Vec<Vec<Bar>>>,
    pub fail_from: Option<usize>,
}

impl RecordingSubmitter {
    pub(crate) fn failing_from(batch: usize) -> Self {
        Self {
            batches: Mutex::default(),
            fail_from: Some(batch),
        }
    }

    pub(crate) fn batches(&self) -> Vec<Vec<Bar>> {
        self.batches
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn bars(&self) -> Vec<Bar> {
        self.batches().into_iter().flatten().collect()
    }
}

#[async_trait]
impl BarSubmitter for RecordingSubmitter {
    async fn submit(&self, bars: Vec<Bar>) -> Result<(), BoxError> {
        let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        if self.fail_from.is_some_and(|n| batches.len() >= n) {
            return Err("store unavailable".into());
        }
        batches.push(bars);
        Ok(())
    }
}

/// A lookup over `pairs`, for `PipelineSettings::from_lookup`.
pub(crate) fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |var: &str| pairs.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone())
}

pub(crate) fn arc<T>(value: T) -> Arc<T> {
    Arc::new(value)
}
