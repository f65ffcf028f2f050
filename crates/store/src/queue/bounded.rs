//! The async bounded queue: a `VecDeque` under a short lock, two `Notify`s for waiting, and the
//! watermark machine evaluated on every put and get. Signals are computed under the lock
//! (so their sequence numbers follow the order of the state changes) and handed to the hook
//! after the lock is released.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use core_contracts::BackpressureLevel;
use tokio::sync::Notify;

use super::builder::QueueBuilder;
use super::watermark::{SignalState, transition};
use super::{OverflowStrategy, PutError, Sequence, Watermarks};

pub(super) type SignalHook = Arc<dyn Fn(QueueSignal) + Send + Sync>;
pub(super) type DropHook<T> = Arc<dyn Fn(T) + Send + Sync>;

/// A watermark crossing, as handed to the signal hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSignal {
    /// New level.
    pub level: BackpressureLevel,
    /// Why: `high_watermark`, `soft_watermark` or `queue_recovered`.
    pub reason: &'static str,
    /// Queue size right after the put or get that caused the signal.
    pub size: usize,
    /// Queue capacity.
    pub capacity: usize,
    /// Sequence number, taken under the lock.
    pub seq: u64,
}

/// A bounded multi-producer multi-consumer async queue with watermark signals.
///
/// Clones share the same queue.
pub struct BoundedQueue<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for BoundedQueue<T> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: Send + 'static> std::fmt::Debug for BoundedQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundedQueue")
            .field("len", &self.len())
            .field("watermarks", &self.shared.marks)
            .field("overflow", &self.shared.overflow)
            .finish_non_exhaustive()
    }
}

struct Shared<T> {
    state: Mutex<State<T>>,
    not_empty: Notify,
    not_full: Notify,
    marks: Watermarks,
    overflow: OverflowStrategy,
    on_signal: Option<SignalHook>,
    on_drop: Option<DropHook<T>>,
    sequence: Sequence,
    dropped: AtomicU64,
}

struct State<T> {
    items: VecDeque<T>,
    signal: SignalState,
    closed: bool,
}

/// Signals raised during one locked section; at most two in practice.
type Raised = Vec<QueueSignal>;

impl<T: Send + 'static> BoundedQueue<T> {
    /// Starts building a queue of `capacity`.
    pub fn builder(capacity: NonZeroUsize) -> QueueBuilder<T> {
        QueueBuilder::new(capacity)
    }

    /// A queue of `capacity` with default watermarks, `block` and no hooks.
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self::from_parts(
            Watermarks::defaults(capacity),
            OverflowStrategy::Block,
            None,
            None,
            Sequence::default(),
        )
    }

    pub(super) fn from_parts(
        marks: Watermarks,
        overflow: OverflowStrategy,
        on_signal: Option<SignalHook>,
        on_drop: Option<DropHook<T>>,
        sequence: Sequence,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    items: VecDeque::with_capacity(marks.capacity().min(4096)),
                    signal: SignalState::Armed,
                    closed: false,
                }),
                not_empty: Notify::new(),
                not_full: Notify::new(),
                marks,
                overflow,
                on_signal,
                on_drop,
                sequence,
                dropped: AtomicU64::new(0),
            }),
        }
    }

    /// Adds `item`, applying the overflow strategy when the queue is full.
    ///
    /// With `block` this waits for room; cancelling the wait loses nothing (the item was not
    /// taken). Fails with [`PutError::Closed`] once the queue is closed.
    pub async fn put(&self, item: T) -> Result<(), PutError<T>> {
        let mut item = item;
        loop {
            let mut notified = pin!(self.shared.not_full.notified());
            notified.as_mut().enable();
            match self.try_put_inner(item, self.shared.overflow) {
                Err(PutError::QueueFull(back))
                    if self.shared.overflow == OverflowStrategy::Block =>
                {
                    item = back;
                }
                other => return other,
            }
            notified.await;
        }
    }

    /// Adds `item` without waiting: a full queue refuses it with [`PutError::QueueFull`],
    /// except under `drop_oldest`, which makes room.
    pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        self.try_put_inner(item, self.shared.overflow)
    }

    fn try_put_inner(&self, item: T, overflow: OverflowStrategy) -> Result<(), PutError<T>> {
        let mut raised = Raised::new();
        let dropped;
        {
            let mut state = self.lock();
            if state.closed {
                return Err(PutError::Closed(item));
            }
            if state.items.len() >= self.shared.marks.capacity() {
                if overflow != OverflowStrategy::DropOldest {
                    return Err(PutError::QueueFull(item));
                }
                dropped = state.items.pop_front();
            } else {
                dropped = None;
            }
            state.items.push_back(item);
            self.evaluate(&mut state, &mut raised);
        }
        self.shared.not_empty.notify_one();
        if let Some(old) = dropped {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
            if let Some(hook) = &self.shared.on_drop {
                hook(old);
            }
        }
        self.emit(raised);
        Ok(())
    }

    /// Takes the oldest item, waiting for one; `None` once the queue is closed and empty.
    /// Cancelling the wait loses nothing.
    pub async fn get(&self) -> Option<T> {
        loop {
            let mut notified = pin!(self.shared.not_empty.notified());
            notified.as_mut().enable();
            let (mut batch, closed) = self.take_inner(1);
            if let Some(item) = batch.pop() {
                return Some(item);
            }
            if closed {
                // Wake the next getter too: it will see the same closed, empty queue.
                self.shared.not_empty.notify_one();
                return None;
            }
            notified.await;
        }
    }

    /// Takes the oldest item if there is one.
    pub fn try_get(&self) -> Option<T> {
        self.take(1).pop()
    }

    /// Takes up to `max` of the oldest items without waiting, oldest first. The watermark
    /// machine runs after each removed item, as if each were a get.
    pub fn take(&self, max: usize) -> Vec<T> {
        self.take_inner(max).0
    }

    /// Takes up to `max` items and tells, under the same lock, whether the queue is closed.
    fn take_inner(&self, max: usize) -> (Vec<T>, bool) {
        let mut raised = Raised::new();
        let mut out = Vec::new();
        let closed;
        {
            let mut state = self.lock();
            closed = state.closed;
            let n = max.min(state.items.len());
            out.reserve(n);
            for _ in 0..n {
                if let Some(item) = state.items.pop_front() {
                    out.push(item);
                    self.evaluate(&mut state, &mut raised);
                }
            }
        }
        for _ in 0..out.len() {
            self.shared.not_full.notify_one();
        }
        self.emit(raised);
        (out, closed)
    }

    /// Closes the queue: puts fail from now on, gets drain what is left and then return `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.shared.not_empty.notify_waiters();
        self.shared.not_full.notify_waiters();
        self.shared.not_empty.notify_one();
    }

    /// Whether [`BoundedQueue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Items waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether no item is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Capacity of the queue.
    pub fn capacity(&self) -> usize {
        self.shared.marks.capacity()
    }

    /// The validated watermarks.
    pub fn watermarks(&self) -> Watermarks {
        self.shared.marks
    }

    /// The overflow strategy.
    pub fn overflow(&self) -> OverflowStrategy {
        self.shared.overflow
    }

    /// The level of the current excursion: ok, or the last signal that fired.
    pub fn level(&self) -> BackpressureLevel {
        self.lock().signal.level()
    }

    /// Items removed by `drop_oldest` so far.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// The sequence the queue numbers its signals from.
    pub fn sequence(&self) -> &Sequence {
        &self.shared.sequence
    }

    fn evaluate(&self, state: &mut State<T>, raised: &mut Raised) {
        let size = state.items.len();
        let (next, signal) = transition(state.signal, size, &self.shared.marks);
        state.signal = next;
        if let Some(signal) = signal {
            raised.push(QueueSignal {
                level: signal.level,
                reason: signal.reason,
                size,
                capacity: self.shared.marks.capacity(),
                seq: self.shared.sequence.next(),
            });
        }
    }

    fn emit(&self, raised: Raised) {
        if let Some(hook) = &self.shared.on_signal {
            for signal in raised {
                hook(signal);
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
