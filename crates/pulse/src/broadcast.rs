//! [`Broadcast`]: a reader that sees every entry of a stream, for state that every reader
//! needs whole (the stores' feedback): a plain read cursor, no consumer group, nothing
//! pending and nothing to acknowledge, so readers never take events from one another and
//! leave nothing behind in the backend when they go.
//!
//! [`Broadcast::history`] reads the newest entries first (what a reader that just started
//! needs to know the current state); [`Broadcast::try_next_batch`] then follows the stream
//! from there. Entries that cannot be decoded are logged, counted
//! (`pulse_consume_total{outcome="error"}`) and skipped: they stay in the stream for the
//! consumer groups that dead-letter them.

use std::marker::PhantomData;

use core_contracts::{Contract, EventEnvelope};

use crate::backend::{RawEntry, StreamReader};
use crate::codec::{self, DecodeRules};
use crate::telemetry::ConsumeCounters;
use crate::{BusError, Pulse, StreamName};

/// The cursor of a reader that has read nothing yet: the start of the stream.
pub const START: &str = "0-0";

/// A broadcast reader of one stream. Not `Clone`: one per reading task.
pub struct Broadcast<T> {
    pulse: Pulse,
    stream: StreamName,
    reader: Box<dyn StreamReader>,
    cursor: String,
    counters: ConsumeCounters,
    _payload: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Broadcast<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broadcast")
            .field("stream", &self.stream.full())
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl<T: Contract> Broadcast<T> {
    pub(crate) fn new(pulse: Pulse, stream: StreamName, reader: Box<dyn StreamReader>) -> Self {
        let counters = pulse
            .metrics()
            .consume_counters(stream.label(), pulse.config().track.as_str());
        Self {
            pulse,
            stream,
            reader,
            cursor: START.to_owned(),
            counters,
            _payload: PhantomData,
        }
    }

    /// The stream read.
    pub fn stream(&self) -> &StreamName {
        &self.stream
    }

    /// The id of the last entry read ([`START`] before any).
    pub fn cursor(&self) -> &str {
        &self.cursor
    }

    /// The newest `count` valid events of the stream, oldest first; reading goes on after
    /// the newest entry of the stream (or from the start, when it is empty).
    pub async fn history(&mut self, count: usize) -> Result<Vec<EventEnvelope<T>>, BusError> {
        let entries = self
            .pulse
            .backend()
            .read_latest(self.stream.key(), count.max(1))
            .await?;
        Ok(self.decode_all(entries))
    }

    /// The valid events after the cursor, waiting up to `PULSE_BLOCK_MS` for at least one
    /// entry; empty when none arrived.
    pub async fn try_next_batch(&mut self) -> Result<Vec<EventEnvelope<T>>, BusError> {
        let config = self.pulse.config();
        let (count, block) = (config.read_count.get(), config.block);
        let entries = self
            .reader
            .read_after(self.stream.key(), &self.cursor, count, block)
            .await?;
        Ok(self.decode_all(entries))
    }

    fn decode_all(&mut self, entries: Vec<RawEntry>) -> Vec<EventEnvelope<T>> {
        let rules = DecodeRules::of(self.pulse.config());
        let mut events = Vec::with_capacity(entries.len());
        for entry in entries {
            self.cursor.clone_from(&entry.id);
            match codec::decode_entry::<T>(&entry, rules) {
                Ok(decoded) => {
                    let now = self.pulse.clock().unix_seconds();
                    self.counters
                        .decoded(self.stream.full(), &entry.id, &decoded, now);
                    self.counters.success.inc();
                    events.push(decoded.event.into_envelope(entry.id));
                }
                Err(rejection) => {
                    self.counters.error.inc();
                    tracing::warn!(
                        stream = self.stream.full(),
                        id = entry.id,
                        reason = %rejection,
                        "skipping undecodable entry"
                    );
                }
            }
        }
        events
    }
}
