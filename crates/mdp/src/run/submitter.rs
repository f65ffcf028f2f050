//! `CoordinatorSubmitter`: the pipeline's [`BarSubmitter`] over a store [`WriteCoordinator`]
//! in the same process.
//!
//! Each batch is submitted from a task of its own, so a pipeline stopped mid-submit (end of
//! `--duration`, Ctrl-C) never leaves a batch half-counted: the task finishes, counts exactly
//! the bars the coordinator accepted, and [`CoordinatorSubmitter::settle`] waits for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use core_contracts::{Bar, BoxError};
use pipeline::BarSubmitter;
use store::coordinator::WriteCoordinator;
use tokio_util::task::TaskTracker;

/// Submits bars to a coordinator and counts those it accepted.
#[derive(Debug, Clone)]
pub struct CoordinatorSubmitter {
    coordinator: WriteCoordinator,
    offered: Arc<AtomicU64>,
    tasks: TaskTracker,
}

impl CoordinatorSubmitter {
    /// A submitter into `coordinator`.
    pub fn new(coordinator: WriteCoordinator) -> Self {
        Self {
            coordinator,
            offered: Arc::new(AtomicU64::new(0)),
            tasks: TaskTracker::new(),
        }
    }

    /// Bars the coordinator accepted so far.
    pub fn offered(&self) -> u64 {
        self.offered.load(Ordering::Relaxed)
    }

    /// Waits for every submission under way and refuses new ones.
    pub async fn settle(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }
}

#[async_trait]
impl BarSubmitter for CoordinatorSubmitter {
    async fn submit(&self, bars: Vec<Bar>) -> Result<(), BoxError> {
        if self.tasks.is_closed() {
            return Err("the pipeline is stopping".into());
        }
        let coordinator = self.coordinator.clone();
        let offered = Arc::clone(&self.offered);
        let task = self.tasks.spawn(async move {
            let n = bars.len() as u64;
            match coordinator.submit_many(bars).await {
                Ok(()) => {
                    offered.fetch_add(n, Ordering::Relaxed);
                    Ok(())
                }
                Err(error) => {
                    let refused = error.to_string();
                    let rejected = error.into_rejected().len() as u64;
                    offered.fetch_add(n.saturating_sub(rejected), Ordering::Relaxed);
                    Err(refused)
                }
            }
        });
        task.await?.map_err(Into::into)
    }
}
