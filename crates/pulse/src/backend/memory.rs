//! The in-memory backend: one bus per process (clones share it), with the same group,
//! pending, redelivery, dead-letter and retention semantics as Redis Streams.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{DeadLetter, EventBus, FailOutcome, FailPolicy, RawEntry, StreamReader};
use crate::BusError;

/// The in-memory bus. Clones share one state; [`InMemoryBus::shared`] is the process-wide
/// instance that every `inmem` configuration uses.
#[derive(Debug, Clone, Default)]
pub struct InMemoryBus {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    streams: HashMap<String, Stream>,
    dead: HashMap<String, DeadStream>,
}

#[derive(Debug, Default)]
struct Stream {
    entries: VecDeque<(u64, Arc<str>)>,
    next_seq: u64,
    groups: HashMap<String, Group>,
    notify: Arc<Notify>,
}

#[derive(Debug, Default)]
struct Group {
    last_delivered: u64,
    pending: BTreeMap<u64, Pending>,
}

#[derive(Debug)]
struct Pending {
    consumer: String,
    deliveries: u32,
    since: Instant,
    failed: bool,
}

#[derive(Debug, Default)]
struct DeadStream {
    entries: VecDeque<DeadLetter>,
    next_seq: u64,
}

static SHARED: OnceLock<InMemoryBus> = OnceLock::new();

impl InMemoryBus {
    /// A new, private bus (tests, embedding).
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide bus shared by every `inmem` configuration.
    pub fn shared() -> Self {
        SHARED.get_or_init(Self::new).clone()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn entry_id(seq: u64) -> String {
    format!("{seq}-0")
}

fn parse_id(id: &str) -> Result<u64, BusError> {
    id.split('-')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| BusError::Command(format!("invalid entry id {id:?}")))
}

impl Stream {
    fn data(&self, seq: u64) -> Option<String> {
        let idx = self.entries.binary_search_by_key(&seq, |(s, _)| *s).ok()?;
        self.entries.get(idx).map(|(_, d)| d.to_string())
    }

    fn append(&mut self, data: &str, maxlen: usize) -> String {
        self.next_seq += 1;
        self.entries.push_back((self.next_seq, Arc::from(data)));
        while self.entries.len() > maxlen.max(1) {
            self.entries.pop_front();
        }
        entry_id(self.next_seq)
    }
}

impl State {
    fn stream(&mut self, key: &str) -> &mut Stream {
        self.streams.entry(key.to_owned()).or_default()
    }

    fn group(&mut self, key: &str, group: &str) -> Result<&mut Group, BusError> {
        self.stream(key)
            .groups
            .get_mut(group)
            .ok_or_else(|| BusError::Command(format!("NOGROUP no group {group:?} on {key:?}")))
    }

    fn push_dead(
        &mut self,
        key: &str,
        original_id: &str,
        reason: &str,
        deliveries: u32,
        data: String,
    ) {
        let dead = self.dead.entry(format!("{key}.dlq")).or_default();
        dead.next_seq += 1;
        let id = entry_id(dead.next_seq);
        dead.entries.push_back(DeadLetter {
            id,
            original_id: original_id.to_owned(),
            reason: reason.to_owned(),
            deliveries,
            data,
        });
    }
}

#[async_trait]
impl EventBus for InMemoryBus {
    fn kind(&self) -> &'static str {
        "inmem"
    }

    async fn publish(&self, key: &str, data: &str, maxlen: usize) -> Result<String, BusError> {
        let mut state = self.lock();
        let stream = state.stream(key);
        let id = stream.append(data, maxlen);
        stream.notify.notify_waiters();
        Ok(id)
    }

    async fn publish_batch(
        &self,
        key: &str,
        data: &[String],
        maxlen: usize,
    ) -> Result<Vec<String>, BusError> {
        let mut state = self.lock();
        let stream = state.stream(key);
        let ids = data.iter().map(|d| stream.append(d, maxlen)).collect();
        stream.notify.notify_waiters();
        Ok(ids)
    }

    async fn ensure_group(&self, key: &str, group: &str) -> Result<(), BusError> {
        self.lock()
            .stream(key)
            .groups
            .entry(group.to_owned())
            .or_default();
        Ok(())
    }

    async fn reader(&self) -> Result<Box<dyn StreamReader>, BusError> {
        Ok(Box::new(self.clone()))
    }

    async fn ack(&self, key: &str, group: &str, ids: &[String]) -> Result<(), BusError> {
        let mut state = self.lock();
        let group = state.group(key, group)?;
        for id in ids {
            group.pending.remove(&parse_id(id)?);
        }
        Ok(())
    }

    async fn touch(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        ids: &[String],
    ) -> Result<(), BusError> {
        let now = Instant::now();
        let mut state = self.lock();
        let group = state.group(key, group)?;
        for id in ids {
            if let Some(p) = group.pending.get_mut(&parse_id(id)?)
                && p.consumer == consumer
            {
                p.since = now;
            }
        }
        Ok(())
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
        let seq = parse_id(id)?;
        let mut state = self.lock();
        let pending = state
            .group(key, group)?
            .pending
            .get_mut(&seq)
            .ok_or_else(|| {
                BusError::Command(format!("entry {id} is not pending in group {group:?}"))
            })?;
        let deliveries = pending.deliveries;
        if deliveries < policy.max_deliveries {
            pending.failed = true;
            pending.consumer = consumer.to_owned();
            return Ok(FailOutcome::Redelivered { deliveries });
        }
        let data = state.stream(key).data(seq).unwrap_or_default();
        state.group(key, group)?.pending.remove(&seq);
        state.push_dead(key, id, reason, deliveries, data);
        Ok(FailOutcome::DeadLettered { deliveries })
    }

    async fn dead_letter(
        &self,
        key: &str,
        group: &str,
        entry: &RawEntry,
        reason: &str,
        deliveries: u32,
    ) -> Result<(), BusError> {
        let seq = parse_id(&entry.id)?;
        let mut state = self.lock();
        state.group(key, group)?.pending.remove(&seq);
        state.push_dead(
            key,
            &entry.id,
            reason,
            deliveries,
            entry.data.clone().unwrap_or_default(),
        );
        Ok(())
    }

    async fn dead_letters(&self, key: &str, count: usize) -> Result<Vec<DeadLetter>, BusError> {
        let state = self.lock();
        Ok(state
            .dead
            .get(&format!("{key}.dlq"))
            .map(|d| d.entries.iter().take(count).cloned().collect())
            .unwrap_or_default())
    }

    async fn remove_dead_letters(&self, key: &str, ids: &[String]) -> Result<(), BusError> {
        let mut state = self.lock();
        if let Some(dead) = state.dead.get_mut(&format!("{key}.dlq")) {
            dead.entries.retain(|d| !ids.contains(&d.id));
        }
        Ok(())
    }

    async fn len(&self, key: &str) -> Result<u64, BusError> {
        Ok(self
            .lock()
            .streams
            .get(key)
            .map_or(0, |s| s.entries.len() as u64))
    }

    async fn pending(&self, key: &str, group: &str) -> Result<u64, BusError> {
        let state = self.lock();
        Ok(state
            .streams
            .get(key)
            .and_then(|s| s.groups.get(group))
            .map_or(0, |g| g.pending.len() as u64))
    }

    async fn health(&self) -> BTreeMap<String, String> {
        let state = self.lock();
        BTreeMap::from([
            ("backend".to_owned(), "inmem".to_owned()),
            ("status".to_owned(), "ok".to_owned()),
            ("streams".to_owned(), state.streams.len().to_string()),
        ])
    }
}

#[async_trait]
impl StreamReader for InMemoryBus {
    async fn read_pending(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        after: &str,
        count: usize,
    ) -> Result<Vec<RawEntry>, BusError> {
        let after = parse_id(after)?;
        let mut state = self.lock();
        let stream = state.stream(key);
        let group = stream
            .groups
            .get(group)
            .ok_or_else(|| BusError::Command(format!("NOGROUP no group {group:?} on {key:?}")))?;
        Ok(group
            .pending
            .range(after + 1..)
            .filter(|(_, p)| p.consumer == consumer)
            .take(count)
            .map(|(seq, _)| RawEntry {
                id: entry_id(*seq),
                data: stream.data(*seq),
            })
            .collect())
    }

    async fn read_new(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<RawEntry>, BusError> {
        let deadline = Instant::now() + block;
        loop {
            let notify = self.lock().stream(key).notify.clone();
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let now = Instant::now();
                let mut state = self.lock();
                let stream = state.stream(key);
                let Stream {
                    entries, groups, ..
                } = stream;
                let group = groups.get_mut(group).ok_or_else(|| {
                    BusError::Command(format!("NOGROUP no group {group:?} on {key:?}"))
                })?;
                let start = entries.partition_point(|(seq, _)| *seq <= group.last_delivered);
                let fresh: Vec<RawEntry> = entries
                    .range(start..)
                    .take(count)
                    .map(|(seq, data)| {
                        group.last_delivered = *seq;
                        group.pending.insert(
                            *seq,
                            Pending {
                                consumer: consumer.to_owned(),
                                deliveries: 1,
                                since: now,
                                failed: false,
                            },
                        );
                        RawEntry {
                            id: entry_id(*seq),
                            data: Some(data.to_string()),
                        }
                    })
                    .collect();
                if !fresh.is_empty() {
                    return Ok(fresh);
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }

    async fn claim_idle(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<RawEntry>, BusError> {
        let now = Instant::now();
        let mut state = self.lock();
        let stream = state.stream(key);
        let Stream {
            entries, groups, ..
        } = stream;
        let group = groups
            .get_mut(group)
            .ok_or_else(|| BusError::Command(format!("NOGROUP no group {group:?} on {key:?}")))?;
        let mut claimed = Vec::new();
        for (seq, p) in group.pending.iter_mut() {
            if claimed.len() >= count {
                break;
            }
            if p.failed || now.duration_since(p.since) >= min_idle {
                p.consumer = consumer.to_owned();
                p.deliveries += 1;
                p.since = now;
                p.failed = false;
                let data = entries
                    .binary_search_by_key(seq, |(s, _)| *s)
                    .ok()
                    .and_then(|i| entries.get(i))
                    .map(|(_, d)| d.to_string());
                claimed.push(RawEntry {
                    id: entry_id(*seq),
                    data,
                });
            }
        }
        Ok(claimed)
    }
}
