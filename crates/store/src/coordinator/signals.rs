//! From queue signals and breaker transitions to `FeedbackEvent`s on the bus.
//!
//! The published level is the worse of the queue's and the breaker's: while the breaker is
//! open every event says HARD (`circuit_open`), so a recovering queue cannot announce OK
//! over a dead sink; when the breaker closes the queue's own level is announced with reason
//! `circuit_closed` (OK unless the queue is itself above its watermarks).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use core_contracts::{BackpressureLevel, Clock, FeedbackEvent};

use crate::feedback::FeedbackBus;
use crate::queue::{QueueSignal, Sequence};
use crate::telemetry::{CoordinatorMetrics, LevelLabels};

/// Reason of the HARD event emitted when the breaker opens.
pub const REASON_CIRCUIT_OPEN: &str = "circuit_open";
/// Reason of the event emitted when the breaker closes.
pub const REASON_CIRCUIT_CLOSED: &str = "circuit_closed";
/// Reason of heartbeat events that restate the current level.
pub const REASON_HEARTBEAT: &str = "heartbeat";

pub(crate) struct FeedbackEmitter {
    coord_id: String,
    capacity: u64,
    bus: FeedbackBus,
    clock: Arc<dyn Clock>,
    metrics: CoordinatorMetrics,
    sequence: Sequence,
    circuit_open: AtomicBool,
}

impl FeedbackEmitter {
    pub(crate) fn new(
        coord_id: String,
        capacity: usize,
        bus: FeedbackBus,
        clock: Arc<dyn Clock>,
        metrics: CoordinatorMetrics,
        sequence: Sequence,
    ) -> Self {
        Self {
            coord_id,
            capacity: capacity as u64,
            bus,
            clock,
            metrics,
            sequence,
            circuit_open: AtomicBool::new(false),
        }
    }

    pub(crate) fn circuit_open(&self) -> bool {
        self.circuit_open.load(Ordering::Acquire)
    }

    /// A queue crossed a watermark (called outside the queue lock).
    pub(crate) fn on_queue_signal(&self, signal: QueueSignal) {
        let (level, reason) = if self.circuit_open() && signal.level < BackpressureLevel::Hard {
            (BackpressureLevel::Hard, REASON_CIRCUIT_OPEN)
        } else {
            (signal.level, signal.reason)
        };
        self.emit(level, reason, signal.size, signal.seq);
    }

    /// The breaker opened (`true`) or closed (`false`).
    pub(crate) fn on_circuit(&self, open: bool, queue_size: usize, queue_level: BackpressureLevel) {
        self.circuit_open.store(open, Ordering::Release);
        let seq = self.sequence.next();
        if open {
            self.emit(
                BackpressureLevel::Hard,
                REASON_CIRCUIT_OPEN,
                queue_size,
                seq,
            );
        } else {
            self.emit(queue_level, REASON_CIRCUIT_CLOSED, queue_size, seq);
        }
    }

    /// The effective level given the queue's.
    pub(crate) fn effective_level(&self, queue_level: BackpressureLevel) -> BackpressureLevel {
        if self.circuit_open() {
            BackpressureLevel::Hard
        } else {
            queue_level
        }
    }

    /// An event restating the current level, with a fresh sequence number (not published).
    pub(crate) fn current_event(
        &self,
        queue_size: usize,
        queue_level: BackpressureLevel,
    ) -> FeedbackEvent {
        let reason = if self.circuit_open() {
            REASON_CIRCUIT_OPEN
        } else {
            REASON_HEARTBEAT
        };
        self.event(
            self.effective_level(queue_level),
            reason,
            queue_size,
            self.sequence.next(),
        )
    }

    fn event(
        &self,
        level: BackpressureLevel,
        reason: &str,
        size: usize,
        seq: u64,
    ) -> FeedbackEvent {
        let size = size as u64;
        FeedbackEvent {
            coordinator_id: self.coord_id.clone(),
            queue_size: size,
            capacity: self.capacity,
            level,
            source: "store".to_owned(),
            ts: self.clock.unix_seconds(),
            reason: Some(reason.to_owned()),
            utilization: Some(size as f64 / self.capacity.max(1) as f64),
            seq: Some(seq),
        }
    }

    fn emit(&self, level: BackpressureLevel, reason: &str, size: usize, seq: u64) {
        self.metrics
            .feedback_events
            .get_or_create(&LevelLabels {
                coord_id: self.coord_id.clone(),
                level: level.as_str(),
            })
            .inc();
        tracing::debug!(coord_id = %self.coord_id, %level, reason, size, seq, "feedback");
        self.bus.publish(self.event(level, reason, size, seq));
    }
}
