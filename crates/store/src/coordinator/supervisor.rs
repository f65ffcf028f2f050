//! Keeps a worker running: a panic is logged, counted and followed by a restart after a short
//! pause (the batch in hand stays in the worker's slot). The worker ends when the queue is
//! closed and drained, or when the coordinator is cancelled.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::stats::Counters;
use super::worker::Worker;
use crate::telemetry::{CoordLabels, RestartLabels};

pub(crate) async fn supervise(worker: Arc<Worker>, restart_backoff: Duration) {
    let s = Arc::clone(&worker.shared);
    let alive = s
        .metrics
        .workers_alive
        .get_or_create(&CoordLabels {
            coord_id: s.coord_id.clone(),
        })
        .clone();
    loop {
        alive.inc();
        let outcome = AssertUnwindSafe(worker.run()).catch_unwind().await;
        alive.dec();
        let Err(panic) = outcome else {
            return;
        };
        tracing::error!(coord_id = %s.coord_id, worker = worker.worker_id,
            panic = panic_message(panic.as_ref()), "worker panicked, restarting");
        if let Some(inflight) = worker.slot().as_mut() {
            inflight.panicked = true;
        }
        s.metrics
            .worker_restarts
            .get_or_create(&RestartLabels {
                coord_id: s.coord_id.clone(),
                worker_id: worker.worker_id.to_string(),
                cause: "panic",
            })
            .inc();
        Counters::add(&s.counters.worker_restarts, 1);
        tokio::select! {
            () = tokio::time::sleep(restart_backoff) => {}
            () = s.cancel.cancelled() => return,
        }
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
