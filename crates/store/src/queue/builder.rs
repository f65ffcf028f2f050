//! Construction of a [`BoundedQueue`]: capacity, watermarks, overflow strategy and hooks.

use std::num::NonZeroUsize;
use std::sync::Arc;

use super::bounded::{BoundedQueue, DropHook, SignalHook};
use super::{OverflowStrategy, QueueSignal, Sequence, WatermarkError, Watermarks};

/// Builds a [`BoundedQueue`].
///
/// ```
/// use std::num::NonZeroUsize;
/// use store::queue::{BoundedQueue, OverflowStrategy};
/// let queue: BoundedQueue<u32> = BoundedQueue::builder(NonZeroUsize::new(10).expect("non-zero"))
///     .watermarks(Some(8), Some(4))
///     .overflow(OverflowStrategy::Error)
///     .build()?;
/// assert_eq!(queue.watermarks().high(), 8);
/// # Ok::<(), store::queue::WatermarkError>(())
/// ```
pub struct QueueBuilder<T> {
    capacity: NonZeroUsize,
    high: Option<usize>,
    low: Option<usize>,
    overflow: OverflowStrategy,
    on_signal: Option<SignalHook>,
    on_drop: Option<DropHook<T>>,
    sequence: Option<Sequence>,
}

impl<T> std::fmt::Debug for QueueBuilder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueBuilder")
            .field("capacity", &self.capacity)
            .field("high", &self.high)
            .field("low", &self.low)
            .field("overflow", &self.overflow)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> QueueBuilder<T> {
    pub(super) fn new(capacity: NonZeroUsize) -> Self {
        Self {
            capacity,
            high: None,
            low: None,
            overflow: OverflowStrategy::default(),
            on_signal: None,
            on_drop: None,
            sequence: None,
        }
    }

    /// Sets the watermarks; `None` keeps the default of SPEC §4.1.
    pub fn watermarks(mut self, high: Option<usize>, low: Option<usize>) -> Self {
        self.high = high;
        self.low = low;
        self
    }

    /// Sets the overflow strategy (default `block`).
    pub fn overflow(mut self, overflow: OverflowStrategy) -> Self {
        self.overflow = overflow;
        self
    }

    /// Called with every signal, outside the queue lock, on the task that caused it.
    /// It must not block: hand the signal on (e.g. to a `FeedbackBus`) and return.
    pub fn on_signal(mut self, hook: impl Fn(QueueSignal) + Send + Sync + 'static) -> Self {
        self.on_signal = Some(Arc::new(hook));
        self
    }

    /// Called with every item that `drop_oldest` removes, oldest first, outside the lock.
    pub fn on_drop(mut self, hook: impl Fn(T) + Send + Sync + 'static) -> Self {
        self.on_drop = Some(Arc::new(hook));
        self
    }

    /// Numbers signals from `sequence` (default: a private counter starting at 0).
    pub fn sequence(mut self, sequence: Sequence) -> Self {
        self.sequence = Some(sequence);
        self
    }

    /// Validates the watermarks and builds the queue.
    pub fn build(self) -> Result<BoundedQueue<T>, WatermarkError> {
        let marks = Watermarks::new(self.capacity, self.high, self.low)?;
        Ok(BoundedQueue::from_parts(
            marks,
            self.overflow,
            self.on_signal,
            self.on_drop,
            self.sequence.unwrap_or_default(),
        ))
    }
}
