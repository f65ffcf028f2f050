//! A subscriber run as its own task: every event of a subscription is handed to a
//! `FeedbackPublisher` (the Pulse publisher, the webhook, a test double). Its failures are
//! counted and logged; its slowness only fills its own mailbox.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use core_contracts::FeedbackPublisher;
use tokio::task::JoinHandle;

use super::FeedbackBus;

/// Counters of an attached subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AttachedStats {
    /// Events the publisher accepted.
    pub published: u64,
    /// Events the publisher refused (logged and not retried here).
    pub failed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    published: AtomicU64,
    failed: AtomicU64,
}

/// A running subscriber task; aborted when dropped unless [`AttachedSubscriber::detach`]ed.
#[derive(Debug)]
pub struct AttachedSubscriber {
    handle: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

impl AttachedSubscriber {
    /// The subscriber's counters.
    pub fn stats(&self) -> AttachedStats {
        AttachedStats {
            published: self.counters.published.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
        }
    }

    /// Lets the task run on its own; it ends when the bus is closed or dropped.
    pub fn detach(mut self) {
        self.handle.take();
    }

    /// Waits for the task to end (after [`FeedbackBus::close`]).
    pub async fn join(mut self) {
        if let Some(handle) = self.handle.take()
            && let Err(e) = handle.await
        {
            tracing::error!(error = %e, "feedback subscriber task failed");
        }
    }
}

impl Drop for AttachedSubscriber {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

impl FeedbackBus {
    /// Subscribes `publisher` under `name` and spawns the task that feeds it, one event at a
    /// time in publication order.
    pub fn attach(
        &self,
        name: impl Into<String>,
        publisher: Arc<dyn FeedbackPublisher>,
    ) -> AttachedSubscriber {
        let mut subscription = self.subscribe(name);
        let counters = Arc::new(Counters::default());
        let task_counters = Arc::clone(&counters);
        let handle = tokio::spawn(async move {
            while let Some(event) = subscription.recv().await {
                match publisher.publish(event).await {
                    Ok(()) => {
                        task_counters.published.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        task_counters.failed.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(subscriber = subscription.name(), error = %e,
                            "feedback subscriber failed to publish an event");
                    }
                }
            }
        });
        AttachedSubscriber {
            handle: Some(handle),
            counters,
        }
    }
}
