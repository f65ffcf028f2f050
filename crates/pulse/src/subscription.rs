//! [`Subscription`]: one consumer of one group on one stream, delivering decoded events.
//!
//! Reads go, in order: entries this consumer left pending in an earlier run; entries idle
//! with any consumer of the group for longer than the idle timeout (and entries failed for
//! redelivery); then new entries, blocking up to `PULSE_BLOCK_MS`. Entries that cannot be
//! decoded go to the dead-letter stream with a reason and the subscription carries on. Acks
//! are batched and sent before the next read.
//!
//! [`Subscription::try_next`] hands out one read one entry at a time, keeping the rest
//! buffered (pending with this consumer, and kept alive by nobody);
//! [`Subscription::try_next_batch`] hands out a whole read at once, so the caller holds, and
//! can [`touch`](Subscription::touch), every entry pending with it.

use std::collections::VecDeque;
use std::marker::PhantomData;

use core_contracts::{Contract, EventEnvelope};
use tokio::time::Instant;

use crate::backend::{FailOutcome, FailPolicy, RawEntry, StreamReader};
use crate::codec::{self, DecodeRules};
use crate::telemetry::ConsumeCounters;
use crate::{BusError, Pulse, StreamName};

/// One decoded event handed to a consumer; it stays pending until acked or failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery<T> {
    /// The event, with the entry id as its id.
    pub envelope: EventEnvelope<T>,
    /// Whether this entry was delivered before (reclaimed or left pending by a restart).
    pub redelivered: bool,
}

impl<T> Delivery<T> {
    /// The entry id.
    pub fn id(&self) -> &str {
        &self.envelope.id
    }
}

/// A consumer's view of a stream. Not `Clone`: one per consumer task.
pub struct Subscription<T> {
    pulse: Pulse,
    stream: StreamName,
    group: String,
    consumer: String,
    reader: Box<dyn StreamReader>,
    buffer: VecDeque<(RawEntry, bool)>,
    pending_cursor: Option<String>,
    last_claim: Option<Instant>,
    claim_due: bool,
    acks: Vec<String>,
    counters: ConsumeCounters,
    _payload: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("stream", &self.stream.full())
            .field("group", &self.group)
            .field("consumer", &self.consumer)
            .finish()
    }
}

impl<T: Contract> Subscription<T> {
    pub(crate) fn new(
        pulse: Pulse,
        stream: StreamName,
        group: &str,
        consumer: &str,
        reader: Box<dyn StreamReader>,
    ) -> Self {
        let counters = pulse
            .metrics()
            .consume_counters(stream.label(), pulse.config().track.as_str());
        Self {
            pulse,
            stream,
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            reader,
            buffer: VecDeque::new(),
            pending_cursor: Some("0".to_owned()),
            last_claim: None,
            claim_due: true,
            acks: Vec::new(),
            counters,
            _payload: PhantomData,
        }
    }

    /// The stream read.
    pub fn stream(&self) -> &StreamName {
        &self.stream
    }

    /// The consumer name.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// This subscription's consume metrics.
    pub fn counters(&self) -> &ConsumeCounters {
        &self.counters
    }

    /// The next valid event, waiting as long as it takes.
    pub async fn next(&mut self) -> Result<Delivery<T>, BusError> {
        loop {
            if let Some(delivery) = self.try_next().await? {
                return Ok(delivery);
            }
        }
    }

    /// The next valid event, or `None` if none arrived within one blocking read.
    pub async fn try_next(&mut self) -> Result<Option<Delivery<T>>, BusError> {
        loop {
            while let Some((entry, redelivered)) = self.buffer.pop_front() {
                if let Some(delivery) = self.decode(entry, redelivered).await? {
                    return Ok(Some(delivery));
                }
            }
            if !self.fetch().await? {
                return Ok(None);
            }
        }
    }

    /// Every valid event of one read (after whatever an earlier [`try_next`](Self::try_next)
    /// left buffered), or none if nothing arrived within one blocking read. Nothing stays
    /// buffered: every entry pending with this consumer from this read is in the caller's
    /// hands, to be acked, failed or [`touch`](Self::touch)ed.
    pub async fn try_next_batch(&mut self) -> Result<Vec<Delivery<T>>, BusError> {
        loop {
            if self.buffer.is_empty() && !self.fetch().await? {
                return Ok(Vec::new());
            }
            let mut batch = Vec::with_capacity(self.buffer.len());
            while let Some((entry, redelivered)) = self.buffer.pop_front() {
                if let Some(delivery) = self.decode(entry, redelivered).await? {
                    batch.push(delivery);
                }
            }
            if !batch.is_empty() {
                return Ok(batch);
            }
        }
    }

    async fn decode(
        &mut self,
        entry: RawEntry,
        redelivered: bool,
    ) -> Result<Option<Delivery<T>>, BusError> {
        let rules = DecodeRules::of(self.pulse.config());
        match codec::decode_entry::<T>(&entry, rules) {
            Ok(decoded) => {
                let now = self.pulse.clock().unix_seconds();
                self.counters
                    .decoded(self.stream.full(), &entry.id, &decoded, now);
                Ok(Some(Delivery {
                    envelope: decoded.event.into_envelope(entry.id),
                    redelivered,
                }))
            }
            Err(rejection) => {
                let reason = rejection.to_string();
                tracing::warn!(
                    stream = self.stream.full(),
                    id = entry.id,
                    reason,
                    "dead-lettering undecodable entry"
                );
                self.pulse
                    .backend()
                    .dead_letter(self.stream.key(), &self.group, &entry, &reason, 1)
                    .await?;
                self.counters.dlq.inc();
                self.counters.dead_lettered.inc();
                Ok(None)
            }
        }
    }

    /// Fills the buffer; false when nothing arrived.
    async fn fetch(&mut self) -> Result<bool, BusError> {
        self.flush_acks().await?;
        let config = self.pulse.config().clone();
        let count = config.read_count.get();
        let key = self.stream.key().to_owned();
        if let Some(cursor) = self.pending_cursor.clone() {
            let entries = self
                .reader
                .read_pending(&key, &self.group, &self.consumer, &cursor, count)
                .await?;
            match entries.last() {
                None => self.pending_cursor = None,
                Some(last) => {
                    self.pending_cursor = Some(last.id.clone());
                    self.push(entries, true);
                    return Ok(true);
                }
            }
        }
        let claim_every = config.idle_timeout / 2;
        if self.claim_due || self.last_claim.is_none_or(|t| t.elapsed() >= claim_every) {
            self.claim_due = false;
            self.last_claim = Some(Instant::now());
            let claimed = self
                .reader
                .claim_idle(
                    &key,
                    &self.group,
                    &self.consumer,
                    config.idle_timeout,
                    count,
                )
                .await?;
            if !claimed.is_empty() {
                // More may be idle than one read takes (a dead consumer's whole backlog):
                // claim again on the next read rather than half an idle timeout later.
                self.claim_due = true;
                self.counters.redeliveries.inc_by(claimed.len() as u64);
                self.push(claimed, true);
                return Ok(true);
            }
        }
        let block = config
            .block
            .min(claim_every.max(std::time::Duration::from_millis(1)));
        let fresh = self
            .reader
            .read_new(&key, &self.group, &self.consumer, count, block)
            .await?;
        let got = !fresh.is_empty();
        self.push(fresh, false);
        Ok(got)
    }

    fn push(&mut self, entries: Vec<RawEntry>, redelivered: bool) {
        self.buffer
            .extend(entries.into_iter().map(|e| (e, redelivered)));
    }

    /// Acknowledges `delivery`. Acks are sent in batches: before the next read, or when a
    /// read's worth has gathered.
    pub async fn ack(&mut self, delivery: &Delivery<T>) -> Result<(), BusError> {
        self.acks.push(delivery.id().to_owned());
        if self.acks.len() >= self.pulse.config().read_count.get() {
            self.flush_acks().await?;
        }
        Ok(())
    }

    /// Sends every buffered ack now.
    pub async fn flush_acks(&mut self) -> Result<(), BusError> {
        if self.acks.is_empty() {
            return Ok(());
        }
        self.pulse
            .backend()
            .ack(self.stream.key(), &self.group, &self.acks)
            .await?;
        self.acks.clear();
        Ok(())
    }

    /// Returns `delivery` for redelivery, or dead-letters it once it has been delivered
    /// `PULSE_MAX_DELIVERIES` times.
    pub async fn fail(
        &mut self,
        delivery: &Delivery<T>,
        reason: &str,
    ) -> Result<FailOutcome, BusError> {
        let config = self.pulse.config();
        let policy = FailPolicy {
            max_deliveries: config.max_deliveries.get(),
            idle_timeout: config.idle_timeout,
        };
        let outcome = self
            .pulse
            .backend()
            .fail(
                self.stream.key(),
                &self.group,
                &self.consumer,
                delivery.id(),
                reason,
                policy,
            )
            .await?;
        match outcome {
            FailOutcome::Redelivered { .. } => self.claim_due = true,
            FailOutcome::DeadLettered { .. } => {
                self.counters.dlq.inc();
                self.counters.dead_lettered.inc();
            }
        }
        Ok(outcome)
    }

    /// Keeps entries in hand from being reclaimed by another consumer: refreshes those of
    /// `ids` this consumer still owns (never one another consumer took over); returns how
    /// many.
    pub async fn touch(&self, ids: &[String]) -> Result<u64, BusError> {
        self.pulse
            .backend()
            .touch(self.stream.key(), &self.group, &self.consumer, ids)
            .await
    }
}
