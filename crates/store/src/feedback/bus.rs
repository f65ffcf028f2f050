//! The bus itself: a list of mailboxes behind a read-mostly lock, and a registry of the
//! coordinators whose current level heartbeat publishers read.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

use core_contracts::FeedbackEvent;

use super::FeedbackSource;
use super::mailbox::{Mailbox, Subscription};

/// Mailbox size of [`FeedbackBus::subscribe`].
pub const DEFAULT_SUBSCRIBER_BUFFER: usize = 1024;

/// In-process fan-out of feedback events. Clones share the same bus, so several coordinators
/// (and several subscribers) may share one.
///
/// [`FeedbackBus::publish`] never waits: each subscriber has a bounded mailbox that drops its
/// oldest event when full, so a slow subscriber only loses its own stale events.
///
/// The mailboxes are the bus's own rather than one `tokio::sync::broadcast` channel: a
/// broadcast ring has one capacity for every receiver (no [`FeedbackBus::subscribe_with_buffer`]),
/// and learns of a slow receiver's losses only when that receiver next reads (`Lagged`), so
/// [`FeedbackBus::subscribers`] could not report the drops of a subscriber that is stuck.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use core_contracts::{BackpressureLevel, FeedbackEvent};
/// use store::feedback::FeedbackBus;
/// let bus = FeedbackBus::new();
/// let mut sub = bus.subscribe("docs");
/// assert_eq!(bus.subscriber_count(), 1);
/// let ev = FeedbackEvent::new("c1", 8, 10, BackpressureLevel::Hard, 1.0).expect("valid");
/// bus.publish(ev.clone());
/// assert_eq!(sub.recv().await, Some(ev));
/// # }
/// ```
#[derive(Clone, Default)]
pub struct FeedbackBus {
    inner: Arc<BusInner>,
}

impl std::fmt::Debug for FeedbackBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackBus")
            .field("subscribers", &self.subscriber_count())
            .field("published", &self.published())
            .finish()
    }
}

/// What the bus knows about one subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberInfo {
    /// Name given at subscription.
    pub name: String,
    /// Events waiting in its mailbox.
    pub queued: usize,
    /// Events taken from its mailbox.
    pub delivered: u64,
    /// Events dropped because its mailbox was full.
    pub dropped: u64,
}

#[derive(Default)]
pub(super) struct BusInner {
    mailboxes: RwLock<Vec<Arc<Mailbox>>>,
    sources: Mutex<Vec<Weak<dyn FeedbackSource>>>,
    next_id: AtomicU64,
    published: AtomicU64,
    closed: AtomicBool,
}

impl BusInner {
    pub(super) fn remove(&self, id: u64) {
        self.mailboxes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|m| m.id != id);
    }
}

impl Drop for BusInner {
    fn drop(&mut self) {
        for mailbox in self
            .mailboxes
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            mailbox.close();
        }
    }
}

impl FeedbackBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Subscribes with a mailbox of [`DEFAULT_SUBSCRIBER_BUFFER`] events.
    pub fn subscribe(&self, name: impl Into<String>) -> Subscription {
        self.subscribe_with_buffer(
            name,
            NonZeroUsize::new(DEFAULT_SUBSCRIBER_BUFFER).unwrap_or(NonZeroUsize::MIN),
        )
    }

    /// Subscribes with a mailbox of `buffer` events. A subscription taken after
    /// [`FeedbackBus::close`] receives nothing.
    pub fn subscribe_with_buffer(
        &self,
        name: impl Into<String>,
        buffer: NonZeroUsize,
    ) -> Subscription {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mailbox = Arc::new(Mailbox::new(id, name.into(), buffer.get()));
        if self.inner.closed.load(Ordering::Acquire) {
            mailbox.close();
        } else {
            self.inner
                .mailboxes
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .push(Arc::clone(&mailbox));
        }
        Subscription {
            mailbox,
            bus: Arc::downgrade(&self.inner),
        }
    }

    /// Hands `event` to every subscriber. Never waits and never fails.
    pub fn publish(&self, event: FeedbackEvent) {
        self.inner.published.fetch_add(1, Ordering::Relaxed);
        let mailboxes = self
            .inner
            .mailboxes
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if mailboxes.is_empty() {
            return;
        }
        let event = Arc::new(event);
        for mailbox in mailboxes.iter() {
            mailbox.push(Arc::clone(&event));
        }
    }

    /// Live subscribers.
    pub fn subscriber_count(&self) -> usize {
        self.inner
            .mailboxes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Per-subscriber counters.
    pub fn subscribers(&self) -> Vec<SubscriberInfo> {
        self.inner
            .mailboxes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|m| SubscriberInfo {
                name: m.name.clone(),
                queued: m.queued(),
                delivered: m.delivered(),
                dropped: m.dropped(),
            })
            .collect()
    }

    /// Events published so far.
    pub fn published(&self) -> u64 {
        self.inner.published.load(Ordering::Relaxed)
    }

    /// Closes every mailbox: subscribers receive what is queued and then `None`.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let mailboxes = std::mem::take(
            &mut *self
                .inner
                .mailboxes
                .write()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for mailbox in mailboxes {
            mailbox.close();
        }
    }

    /// Registers a source of current feedback (a coordinator) for heartbeats. The bus keeps
    /// a weak reference: a dropped source disappears by itself.
    pub fn register_source(&self, source: Weak<dyn FeedbackSource>) {
        self.inner
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(source);
    }

    /// Removes the sources registered under `coordinator_id`.
    pub fn unregister_source(&self, coordinator_id: &str) {
        self.inner
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|s| {
                s.upgrade()
                    .is_some_and(|s| s.coordinator_id() != coordinator_id)
            });
    }

    /// The current event of every registered source, for a heartbeat: each carries the
    /// source's current level and queue size and a fresh sequence number.
    pub fn current_events(&self) -> Vec<FeedbackEvent> {
        let live: Vec<Arc<dyn FeedbackSource>> = {
            let mut sources = self
                .inner
                .sources
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            sources.retain(|s| s.strong_count() > 0);
            sources.iter().filter_map(Weak::upgrade).collect()
        };
        live.iter().map(|s| s.current_event()).collect()
    }
}
