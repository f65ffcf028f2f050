//! Keeps a worker running: a panic or fatal error is logged, counted and followed by a
//! restart after a short pause. The worker ends only when the queue is closed and drained.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::stats::Counters;
use super::worker::Worker;
use crate::telemetry::{CoordLabels, RestartLabels};

/// Restarts tolerated once a stop without drain has begun, before the batch in hand is given
/// up as lost (only reachable when the dead-letter file itself cannot be written).
const RESTARTS_AFTER_CANCEL: u32 = 3;

pub(crate) async fn supervise(worker: Arc<Worker>, restart_backoff: Duration) {
    let s = Arc::clone(&worker.shared);
    let alive = s
        .metrics
        .workers_alive
        .get_or_create(&CoordLabels {
            coord_id: s.coord_id.clone(),
        })
        .clone();
    let restart_labels = |cause| RestartLabels {
        coord_id: s.coord_id.clone(),
        worker_id: worker.worker_id.to_string(),
        cause,
    };
    let mut restarts_after_cancel = 0;
    loop {
        alive.inc();
        let outcome = AssertUnwindSafe(worker.run()).catch_unwind().await;
        alive.dec();
        let cause = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(error)) => {
                tracing::error!(coord_id = %s.coord_id, worker = worker.worker_id, %error,
                    "worker failed, restarting");
                "fatal"
            }
            Err(panic) => {
                tracing::error!(coord_id = %s.coord_id, worker = worker.worker_id,
                    panic = panic_message(panic.as_ref()), "worker panicked, restarting");
                if let Some(inflight) = worker.slot().as_mut() {
                    inflight.panicked = true;
                }
                "panic"
            }
        };
        s.metrics
            .worker_restarts
            .get_or_create(&restart_labels(cause))
            .inc();
        Counters::add(&s.counters.worker_restarts, 1);
        if s.cancel.is_cancelled() {
            restarts_after_cancel += 1;
            if restarts_after_cancel > RESTARTS_AFTER_CANCEL {
                let lost = worker.slot().take().map_or(0, |f| f.bars.len());
                Counters::add(&s.counters.lost, lost);
                tracing::error!(coord_id = %s.coord_id, worker = worker.worker_id, lost,
                    "stopping: batch could not be written nor dead-lettered");
                return;
            }
        }
        tokio::time::sleep(restart_backoff).await;
    }
}

/// The text of a panic payload.
pub(super) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("non-string panic")
}
