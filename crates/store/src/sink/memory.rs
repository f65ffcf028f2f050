//! A sink that keeps bars in memory, keyed by [`Bar::key`]: a bar replaces the stored one
//! unless that has a higher revision, so re-writing a batch is idempotent. For tests and benchmarks: failures, panics and a per-write delay can be
//! injected.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::{Bar, BarKey};

use super::dedup::{TsPrecision, newest_per_key};
use super::{Revision, Sink, SinkError};

/// An in-memory [`Sink`] with injectable failures.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use store::sink::{MemorySink, Sink, SinkError};
/// let sink = MemorySink::new();
/// sink.fail_next([SinkError::Transient("down".into())]);
/// assert!(sink.write(&[], &[]).await.is_err());
/// assert!(sink.write(&[], &[]).await.is_ok());
/// assert_eq!(sink.write_calls(), 2);
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemorySink {
    bars: Mutex<BTreeMap<BarKey, (Bar, Revision)>>,
    scripted: Mutex<VecDeque<SinkError>>,
    failing: Mutex<Option<SinkError>>,
    rejected: Mutex<BTreeSet<BarKey>>,
    panic_next: AtomicBool,
    throttle: Option<Duration>,
    write_calls: AtomicU64,
    batches_written: AtomicU64,
}

impl MemorySink {
    /// An empty sink that accepts every write at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty sink whose every write takes `delay` (tokio time) before it completes.
    pub fn with_throttle(delay: Duration) -> Self {
        Self {
            throttle: Some(delay),
            ..Self::default()
        }
    }

    /// The next writes fail with `errors`, in order, one each.
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SinkError>) {
        lock(&self.scripted).extend(errors);
    }

    /// Every write fails with `error` until called with `None` (an outage).
    pub fn set_failing(&self, error: Option<SinkError>) {
        *lock(&self.failing) = error;
    }

    /// Every write of a batch holding a bar with `key` fails with a permanent error (a
    /// poison bar).
    pub fn reject(&self, key: BarKey) {
        lock(&self.rejected).insert(key);
    }

    /// The next write panics.
    pub fn panic_on_next_write(&self) {
        self.panic_next.store(true, Ordering::SeqCst);
    }

    /// Distinct bars stored.
    pub fn len(&self) -> usize {
        lock(&self.bars).len()
    }

    /// Whether no bar is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every stored bar, in key order.
    pub fn bars(&self) -> Vec<Bar> {
        lock(&self.bars)
            .values()
            .map(|(bar, _)| bar.clone())
            .collect()
    }

    /// The revision of the bar stored under `key`, if any.
    pub fn revision(&self, key: &BarKey) -> Option<Revision> {
        lock(&self.bars).get(key).map(|(_, revision)| *revision)
    }

    /// Whether a bar with `key` is stored.
    pub fn contains(&self, key: &BarKey) -> bool {
        lock(&self.bars).contains_key(key)
    }

    /// Calls of [`Sink::write`], failed ones included.
    pub fn write_calls(&self) -> u64 {
        self.write_calls.load(Ordering::SeqCst)
    }

    /// Successful calls of [`Sink::write`].
    pub fn batches_written(&self) -> u64 {
        self.batches_written.load(Ordering::SeqCst)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait]
impl Sink for MemorySink {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn write(&self, batch: &[Bar], revisions: &[Revision]) -> Result<(), SinkError> {
        self.write_calls.fetch_add(1, Ordering::SeqCst);
        if let Some(delay) = self.throttle {
            tokio::time::sleep(delay).await;
        }
        if self.panic_next.swap(false, Ordering::SeqCst) {
            panic!("memory sink: injected panic");
        }
        if let Some(error) = lock(&self.scripted).pop_front() {
            return Err(error);
        }
        if let Some(error) = lock(&self.failing).clone() {
            return Err(error);
        }
        let newest = newest_per_key(batch, revisions, TsPrecision::Nanos)?;
        let rejected = lock(&self.rejected);
        if let Some(bar) = batch.iter().find(|b| rejected.contains(&b.key())) {
            return Err(SinkError::Permanent(format!(
                "memory sink: bar {} {} {} rejected",
                bar.provider, bar.symbol, bar.ts
            )));
        }
        drop(rejected);
        let mut bars = lock(&self.bars);
        for (bar, revision) in newest {
            let stored = bars
                .entry(bar.key())
                .or_insert_with(|| (bar.clone(), revision));
            if revision >= stored.1 {
                *stored = (bar.clone(), revision);
            }
        }
        drop(bars);
        self.batches_written.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
