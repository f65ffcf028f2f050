//! One subscriber's bounded mailbox. When it is full the oldest event is dropped (and counted):
//! feedback states a level, so the newest event is the one worth keeping.

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use core_contracts::FeedbackEvent;
use tokio::sync::Notify;

use super::bus::BusInner;

pub(super) struct Mailbox {
    pub(super) id: u64,
    pub(super) name: String,
    events: Mutex<VecDeque<Arc<FeedbackEvent>>>,
    capacity: usize,
    notify: Notify,
    closed: AtomicBool,
    dropped: AtomicU64,
    delivered: AtomicU64,
}

impl Mailbox {
    pub(super) fn new(id: u64, name: String, capacity: usize) -> Self {
        Self {
            id,
            name,
            events: Mutex::new(VecDeque::with_capacity(capacity.min(64))),
            capacity,
            notify: Notify::new(),
            closed: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
        }
    }

    /// Queues `event`, dropping the oldest when full. Never waits.
    pub(super) fn push(&self, event: Arc<FeedbackEvent>) {
        {
            let mut events = self.lock();
            if events.len() >= self.capacity && events.pop_front().is_some() {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            events.push_back(event);
        }
        self.notify.notify_one();
    }

    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.notify.notify_one();
    }

    pub(super) fn queued(&self) -> usize {
        self.lock().len()
    }

    pub(super) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(super) fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// The next event; shared with the other subscribers until this one takes its copy, so
    /// the publisher never clones.
    fn pop(&self) -> Option<FeedbackEvent> {
        let event = self.lock().pop_front()?;
        self.delivered.fetch_add(1, Ordering::Relaxed);
        Some(Arc::unwrap_or_clone(event))
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Arc<FeedbackEvent>>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A subscription to a [`FeedbackBus`](super::FeedbackBus): a bounded mailbox of events in
/// publication order. Dropping it unsubscribes.
pub struct Subscription {
    pub(super) mailbox: Arc<Mailbox>,
    pub(super) bus: Weak<BusInner>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("name", &self.mailbox.name)
            .field("queued", &self.mailbox.queued())
            .field("dropped", &self.mailbox.dropped())
            .finish()
    }
}

impl Subscription {
    /// The next event, waiting for one; `None` once the bus is closed and the mailbox empty.
    pub async fn recv(&mut self) -> Option<FeedbackEvent> {
        loop {
            let mut notified = pin!(self.mailbox.notify.notified());
            notified.as_mut().enable();
            if let Some(event) = self.mailbox.pop() {
                return Some(event);
            }
            if self.mailbox.closed.load(Ordering::Acquire) || self.bus.strong_count() == 0 {
                return None;
            }
            notified.await;
        }
    }

    /// The next event if one is queued.
    pub fn try_recv(&mut self) -> Option<FeedbackEvent> {
        self.mailbox.pop()
    }

    /// The subscriber's name.
    pub fn name(&self) -> &str {
        &self.mailbox.name
    }

    /// Events dropped because this mailbox was full (oldest first).
    pub fn dropped(&self) -> u64 {
        self.mailbox.dropped()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.mailbox.close();
        if let Some(bus) = self.bus.upgrade() {
            bus.remove(self.mailbox.id);
        }
    }
}
