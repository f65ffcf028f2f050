//! The in-memory backend: one bus per process (clones share it), with the same group,
//! pending, redelivery, dead-letter and retention semantics as Redis Streams. Entries keep
//! their fields as raw bytes; dead letters are stored as entries of `{key}.dlq` laid out as
//! on Redis ([`entry`]); each reader keeps its own reclaim cursor.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::entry::{self, DeadLetter, Fields, RawEntry};
use super::retention::{self, Backlog, EntryId, GroupPosition};
use super::{EventBus, FailOutcome, FailPolicy, StreamReader};
use crate::{BusError, Retention};

/// The in-memory bus. Clones share one state; [`InMemoryBus::shared`] is the process-wide
/// instance that every `inmem` configuration uses.
#[derive(Debug, Clone, Default)]
pub struct InMemoryBus {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    streams: HashMap<String, Stream>,
}

#[derive(Debug, Default)]
struct Stream {
    entries: VecDeque<(u64, Arc<Fields>)>,
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

/// The fields of entry `seq` of `entries`; empty when it was trimmed.
fn fields_of(entries: &VecDeque<(u64, Arc<Fields>)>, seq: u64) -> Fields {
    entries
        .binary_search_by_key(&seq, |(s, _)| *s)
        .ok()
        .and_then(|i| entries.get(i))
        .map(|(_, f)| f.as_ref().clone())
        .unwrap_or_default()
}

impl Stream {
    fn fields(&self, seq: u64) -> Fields {
        fields_of(&self.entries, seq)
    }

    fn append(&mut self, fields: Fields, retention: Retention) -> String {
        self.next_seq += 1;
        self.entries.push_back((self.next_seq, Arc::new(fields)));
        if let Retention::MaxLen(maxlen) = retention {
            while self.entries.len() > maxlen.max(1) {
                self.entries.pop_front();
            }
        }
        entry_id(self.next_seq)
    }

    /// Removes the entries below the oldest one a group still needs; returns how many.
    fn trim_acknowledged(&mut self) -> u64 {
        let positions: Vec<GroupPosition> = self
            .groups
            .values()
            .map(|g| GroupPosition {
                last_delivered: seq_id(g.last_delivered),
                oldest_pending: g.pending.keys().next().map(|s| seq_id(*s)),
            })
            .collect();
        let Some(keep_from) = retention::trim_point(&positions) else {
            return 0;
        };
        let mut removed = 0;
        while self
            .entries
            .front()
            .is_some_and(|(seq, _)| seq_id(*seq) < keep_from)
        {
            self.entries.pop_front();
            removed += 1;
        }
        removed
    }
}

fn seq_id(seq: u64) -> EntryId {
    EntryId { ms: seq, seq: 0 }
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
        original: &[(Vec<u8>, Vec<u8>)],
    ) {
        let fields = entry::dead_letter_fields(original_id, reason, deliveries, original);
        let dead = self.stream(&format!("{key}.dlq"));
        dead.append(fields, Retention::Acknowledged);
        dead.notify.notify_waiters();
    }

    fn append_all(
        &mut self,
        key: &str,
        entries: impl IntoIterator<Item = Fields>,
        retention: Retention,
    ) -> Vec<String> {
        let stream = self.stream(key);
        let ids = entries
            .into_iter()
            .map(|fields| stream.append(fields, retention))
            .collect();
        stream.notify.notify_waiters();
        ids
    }
}

#[async_trait]
impl EventBus for InMemoryBus {
    fn kind(&self) -> &'static str {
        "inmem"
    }

    async fn publish(
        &self,
        key: &str,
        data: &str,
        retention: Retention,
    ) -> Result<String, BusError> {
        let ids = self
            .lock()
            .append_all(key, [entry::data_fields(data)], retention);
        ids.into_iter()
            .next()
            .ok_or_else(|| BusError::Command("XADD returned no id".into()))
    }

    async fn publish_batch(
        &self,
        key: &str,
        data: &[String],
        retention: Retention,
    ) -> Result<Vec<String>, BusError> {
        let entries = data.iter().map(|d| entry::data_fields(d.as_str()));
        Ok(self.lock().append_all(key, entries, retention))
    }

    async fn publish_raw(
        &self,
        key: &str,
        entries: &[Fields],
        retention: Retention,
    ) -> Result<Vec<String>, BusError> {
        Ok(self
            .lock()
            .append_all(key, entries.iter().cloned(), retention))
    }

    async fn trim_acknowledged(&self, key: &str) -> Result<u64, BusError> {
        Ok(self
            .lock()
            .streams
            .get_mut(key)
            .map_or(0, Stream::trim_acknowledged))
    }

    async fn backlog(&self, key: &str, group: &str) -> Result<Backlog, BusError> {
        let state = self.lock();
        let Some(stream) = state.streams.get(key) else {
            return Ok(Backlog::default());
        };
        let Some(group) = stream.groups.get(group) else {
            return Ok(Backlog::default());
        };
        let delivered = stream
            .entries
            .partition_point(|(seq, _)| *seq <= group.last_delivered);
        Ok(Backlog {
            undelivered: (stream.entries.len() - delivered) as u64,
            pending: group.pending.len() as u64,
        })
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
        Ok(Box::new(MemoryReader {
            bus: self.clone(),
            claim_cursors: HashMap::new(),
        }))
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
    ) -> Result<u64, BusError> {
        let now = Instant::now();
        let mut state = self.lock();
        let group = state.group(key, group)?;
        let mut touched = 0;
        for id in ids {
            if let Some(p) = group.pending.get_mut(&parse_id(id)?)
                && p.consumer == consumer
            {
                p.since = now;
                touched += 1;
            }
        }
        Ok(touched)
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
        let fields = state.stream(key).fields(seq);
        state.group(key, group)?.pending.remove(&seq);
        state.push_dead(key, id, reason, deliveries, &fields);
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
        state.push_dead(key, &entry.id, reason, deliveries, &entry.fields);
        Ok(())
    }

    async fn dead_letters(&self, key: &str, count: usize) -> Result<Vec<DeadLetter>, BusError> {
        let state = self.lock();
        Ok(state
            .streams
            .get(&format!("{key}.dlq"))
            .map(|d| {
                d.entries
                    .iter()
                    .take(count)
                    .map(|(seq, fields)| {
                        entry::parse_dead_letter(entry_id(*seq), fields.as_ref().clone())
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn remove_dead_letters(&self, key: &str, ids: &[String]) -> Result<(), BusError> {
        let seqs = ids
            .iter()
            .map(|id| parse_id(id))
            .collect::<Result<Vec<u64>, BusError>>()?;
        let mut state = self.lock();
        if let Some(dead) = state.streams.get_mut(&format!("{key}.dlq")) {
            dead.entries.retain(|(seq, _)| !seqs.contains(seq));
        }
        Ok(())
    }

    async fn read_latest(&self, key: &str, count: usize) -> Result<Vec<RawEntry>, BusError> {
        let state = self.lock();
        let Some(stream) = state.streams.get(key) else {
            return Ok(Vec::new());
        };
        let skip = stream.entries.len().saturating_sub(count);
        Ok(stream
            .entries
            .range(skip..)
            .map(|(seq, fields)| RawEntry {
                id: entry_id(*seq),
                fields: fields.as_ref().clone(),
            })
            .collect())
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

    async fn survives_restart(&self) -> Result<Option<bool>, BusError> {
        Ok(None)
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

/// A reader of the in-memory bus, with its reclaim cursor per stream and group.
struct MemoryReader {
    bus: InMemoryBus,
    claim_cursors: HashMap<(String, String), u64>,
}

impl MemoryReader {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.bus.lock()
    }

    /// Runs `take` on stream `key` until it hands out entries, waiting for each publish,
    /// for up to `block`; empty when nothing came.
    async fn wait_for(
        &self,
        key: &str,
        block: Duration,
        mut take: impl FnMut(&mut Stream) -> Result<Vec<RawEntry>, BusError> + Send,
    ) -> Result<Vec<RawEntry>, BusError> {
        let deadline = Instant::now() + block;
        loop {
            let notify = self.lock().stream(key).notify.clone();
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let fresh = take(self.lock().stream(key))?;
            if !fresh.is_empty() {
                return Ok(fresh);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Ok(Vec::new());
            }
        }
    }
}

#[async_trait]
impl StreamReader for MemoryReader {
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
                fields: stream.fields(*seq),
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
        self.wait_for(key, block, |stream| {
            let now = Instant::now();
            let Stream {
                entries, groups, ..
            } = stream;
            let group = groups.get_mut(group).ok_or_else(|| {
                BusError::Command(format!("NOGROUP no group {group:?} on {key:?}"))
            })?;
            let start = entries.partition_point(|(seq, _)| *seq <= group.last_delivered);
            Ok(entries
                .range(start..)
                .take(count)
                .map(|(seq, fields)| {
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
                        fields: fields.as_ref().clone(),
                    }
                })
                .collect())
        })
        .await
    }

    async fn read_after(
        &mut self,
        key: &str,
        after: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<RawEntry>, BusError> {
        let after = parse_id(after)?;
        self.wait_for(key, block, |stream| {
            let start = stream.entries.partition_point(|(seq, _)| *seq <= after);
            Ok(stream
                .entries
                .range(start..)
                .take(count)
                .map(|(seq, fields)| RawEntry {
                    id: entry_id(*seq),
                    fields: fields.as_ref().clone(),
                })
                .collect())
        })
        .await
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
        let cursor_key = (key.to_owned(), group.to_owned());
        let from = self.claim_cursors.get(&cursor_key).copied().unwrap_or(0);
        let mut state = self.bus.lock();
        let stream = state.stream(key);
        let Stream {
            entries, groups, ..
        } = stream;
        let group = groups
            .get_mut(group)
            .ok_or_else(|| BusError::Command(format!("NOGROUP no group {group:?} on {key:?}")))?;
        let mut claimed = Vec::new();
        let mut next_cursor = 0;
        for (seq, p) in group.pending.range_mut(from..) {
            if claimed.len() >= count {
                next_cursor = *seq;
                break;
            }
            if p.failed || now.duration_since(p.since) >= min_idle {
                p.consumer = consumer.to_owned();
                p.deliveries += 1;
                p.since = now;
                p.failed = false;
                claimed.push(RawEntry {
                    id: entry_id(*seq),
                    fields: fields_of(entries, *seq),
                });
            }
        }
        drop(state);
        self.claim_cursors.insert(cursor_key, next_cursor);
        Ok(claimed)
    }
}
