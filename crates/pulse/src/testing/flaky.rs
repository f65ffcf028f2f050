//! [`FlakyBus`]: an in-memory bus whose first reader openings fail, to prove that consumers
//! recover from bus errors.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;

use crate::backend::memory::InMemoryBus;
use crate::backend::{Backlog, DeadLetter, FailPolicy, Fields};
use crate::{BusError, EventBus, FailOutcome, RawEntry, Retention, StreamReader};

/// An [`InMemoryBus`] whose first `failures` calls to [`EventBus::reader`] fail with
/// [`BusError::Unavailable`].
#[derive(Debug)]
pub struct FlakyBus {
    inner: InMemoryBus,
    failures: AtomicU32,
}

impl FlakyBus {
    /// A private in-memory bus failing its first `failures` reader openings.
    pub fn new(failures: u32) -> Self {
        Self {
            inner: InMemoryBus::new(),
            failures: AtomicU32::new(failures),
        }
    }

    /// Reader openings still to fail.
    pub fn failures_left(&self) -> u32 {
        self.failures.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl EventBus for FlakyBus {
    fn kind(&self) -> &'static str {
        "flaky"
    }
    async fn publish(
        &self,
        key: &str,
        data: &str,
        retention: Retention,
    ) -> Result<String, BusError> {
        self.inner.publish(key, data, retention).await
    }
    async fn publish_batch(
        &self,
        key: &str,
        data: &[String],
        retention: Retention,
    ) -> Result<Vec<String>, BusError> {
        self.inner.publish_batch(key, data, retention).await
    }
    async fn publish_raw(
        &self,
        key: &str,
        entries: &[Fields],
        retention: Retention,
    ) -> Result<Vec<String>, BusError> {
        self.inner.publish_raw(key, entries, retention).await
    }
    async fn trim_acknowledged(&self, key: &str) -> Result<u64, BusError> {
        self.inner.trim_acknowledged(key).await
    }
    async fn backlog(&self, key: &str, group: &str) -> Result<Backlog, BusError> {
        self.inner.backlog(key, group).await
    }
    async fn ensure_group(&self, key: &str, group: &str) -> Result<(), BusError> {
        self.inner.ensure_group(key, group).await
    }
    async fn reader(&self) -> Result<Box<dyn StreamReader>, BusError> {
        let failed = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if failed {
            return Err(BusError::Unavailable("connection refused".into()));
        }
        self.inner.reader().await
    }
    async fn ack(&self, key: &str, group: &str, ids: &[String]) -> Result<(), BusError> {
        self.inner.ack(key, group, ids).await
    }
    async fn touch(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        ids: &[String],
    ) -> Result<u64, BusError> {
        self.inner.touch(key, group, consumer, ids).await
    }
    async fn fail(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        id: &str,
        reason: &str,
        policy: FailPolicy,
    ) -> Result<FailOutcome, BusError> {
        self.inner
            .fail(key, group, consumer, id, reason, policy)
            .await
    }
    async fn dead_letter(
        &self,
        key: &str,
        group: &str,
        entry: &RawEntry,
        reason: &str,
        deliveries: u32,
    ) -> Result<(), BusError> {
        self.inner
            .dead_letter(key, group, entry, reason, deliveries)
            .await
    }
    async fn dead_letters(&self, key: &str, count: usize) -> Result<Vec<DeadLetter>, BusError> {
        self.inner.dead_letters(key, count).await
    }
    async fn remove_dead_letters(&self, key: &str, ids: &[String]) -> Result<(), BusError> {
        self.inner.remove_dead_letters(key, ids).await
    }
    async fn read_latest(&self, key: &str, count: usize) -> Result<Vec<RawEntry>, BusError> {
        self.inner.read_latest(key, count).await
    }
    async fn len(&self, key: &str) -> Result<u64, BusError> {
        self.inner.len(key).await
    }
    async fn pending(&self, key: &str, group: &str) -> Result<u64, BusError> {
        self.inner.pending(key, group).await
    }
    async fn health(&self) -> BTreeMap<String, String> {
        self.inner.health().await
    }
    async fn survives_restart(&self) -> Result<Option<bool>, BusError> {
        self.inner.survives_restart().await
    }
}
