//! A bounded, true-LRU set of handled message ids, marked only after successful handling.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use lru::LruCache;

/// Remembers the last `capacity` handled ids; the least recently seen is forgotten first.
///
/// ```
/// use pulse::Idempotency;
/// use std::num::NonZeroUsize;
/// let seen = Idempotency::new(NonZeroUsize::new(2).expect("non-zero"));
/// seen.mark("a");
/// seen.mark("b");
/// assert!(seen.seen("a")); // touching `a` makes `b` the oldest
/// seen.mark("c");
/// assert!(!seen.seen("b"));
/// assert!(seen.seen("a") && seen.seen("c"));
/// ```
#[derive(Debug)]
pub struct Idempotency {
    ids: Mutex<LruCache<String, ()>>,
}

impl Idempotency {
    /// An empty set holding at most `capacity` ids.
    pub fn new(capacity: NonZeroUsize) -> Self {
        Self {
            ids: Mutex::new(LruCache::new(capacity)),
        }
    }

    /// Whether `id` was marked (and, if so, makes it the most recently seen).
    pub fn seen(&self, id: &str) -> bool {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .is_some()
    }

    /// Records `id` as handled.
    pub fn mark(&self, id: &str) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(id.to_owned(), ());
    }
}
