//! The FIFO of callers waiting for tokens: only the head may take them, and whoever leaves
//! the head wakes the next in line.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::Notify;

#[derive(Debug)]
struct Waiter {
    id: u64,
    wake: Arc<Notify>,
}

/// Waiting callers in arrival order, each with its own wake-up.
///
/// `Notify::notify_one` keeps a permit for a waiter that is not yet parked, so a wake-up
/// sent between a check and a wait is never lost.
#[derive(Debug, Default)]
pub(crate) struct WaitQueue {
    waiters: VecDeque<Waiter>,
    next_id: u64,
}

impl WaitQueue {
    /// Adds a caller at the back; returns its id and its wake-up.
    pub(crate) fn enqueue(&mut self) -> (u64, Arc<Notify>) {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let wake = Arc::new(Notify::new());
        self.waiters.push_back(Waiter {
            id,
            wake: Arc::clone(&wake),
        });
        (id, wake)
    }

    /// Whether `id` is at the head.
    pub(crate) fn is_head(&self, id: u64) -> bool {
        self.waiters.front().is_some_and(|w| w.id == id)
    }

    /// Removes `id` wherever it stands; when it was the head, wakes the new head.
    pub(crate) fn remove(&mut self, id: u64) {
        let Some(pos) = self.waiters.iter().position(|w| w.id == id) else {
            return;
        };
        self.waiters.remove(pos);
        if pos == 0 {
            self.wake_head();
        }
    }

    /// Wakes the head so it re-reads the bucket (after a scale or cooldown change).
    pub(crate) fn wake_head(&self) {
        if let Some(head) = self.waiters.front() {
            head.wake.notify_one();
        }
    }

    /// Callers waiting.
    pub(crate) fn len(&self) -> usize {
        self.waiters.len()
    }

    /// Whether nobody waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiters.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_is_the_first_to_arrive_and_leaving_passes_it_on() {
        let mut queue = WaitQueue::default();
        let (a, _) = queue.enqueue();
        let (b, _) = queue.enqueue();
        let (c, _) = queue.enqueue();
        assert!(queue.is_head(a));
        queue.remove(b);
        assert!(queue.is_head(a));
        queue.remove(a);
        assert!(queue.is_head(c));
        assert_eq!(queue.len(), 1);
        queue.remove(c);
        assert!(queue.is_empty());
    }
}
