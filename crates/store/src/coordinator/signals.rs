//! From queue signals and breaker transitions to `FeedbackEvent`s on the bus.
//!
//! The published level is the worst of the queue's, the breaker's and the dead-letter file's:
//! while the breaker is open every event says HARD (`circuit_open`), and while a worker
//! cannot append to the dead-letter file every event says HARD (`dead_letter_failed`), so a
//! recovering queue cannot announce OK over a dead sink or a dead file. When the fault ends
//! the queue's own level is announced with reason `circuit_closed` or `dead_letter_recovered`
//! (OK unless the queue is itself above its watermarks or the other fault persists).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use core_contracts::{BackpressureLevel, Clock, FeedbackEvent};

use crate::feedback::FeedbackBus;
use crate::queue::{QueueSignal, Sequence};
use crate::telemetry::{CoordLabels, CoordinatorMetrics, LevelLabels};

/// Reason of the HARD event emitted when the breaker opens.
pub const REASON_CIRCUIT_OPEN: &str = "circuit_open";
/// Reason of the event emitted when the breaker closes.
pub const REASON_CIRCUIT_CLOSED: &str = "circuit_closed";
/// Reason of heartbeat events that restate the current level.
pub const REASON_HEARTBEAT: &str = "heartbeat";
/// Reason of the HARD event emitted when a worker cannot append to the dead-letter file.
pub const REASON_DEAD_LETTER_FAILED: &str = "dead_letter_failed";
/// Reason of the event emitted when the dead-letter file takes appends again.
pub const REASON_DEAD_LETTER_RECOVERED: &str = "dead_letter_recovered";

pub(crate) struct FeedbackEmitter {
    coord_id: String,
    capacity: u64,
    bus: FeedbackBus,
    clock: Arc<dyn Clock>,
    metrics: CoordinatorMetrics,
    sequence: Sequence,
    circuit_open: AtomicBool,
    /// Workers whose dead-letter append is failing now.
    dead_letter_failing: AtomicUsize,
    /// The level last announced (`u8::MAX` before the first event).
    announced: AtomicU8,
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
            dead_letter_failing: AtomicUsize::new(0),
            announced: AtomicU8::new(u8::MAX),
        }
    }

    pub(crate) fn circuit_open(&self) -> bool {
        self.circuit_open.load(Ordering::Acquire)
    }

    /// Whether some worker cannot append to the dead-letter file now.
    pub(crate) fn dead_letter_failing(&self) -> bool {
        self.dead_letter_failing.load(Ordering::Acquire) > 0
    }

    /// The reason of the fault that forces HARD, if any (the breaker's first).
    fn fault(&self) -> Option<&'static str> {
        if self.circuit_open() {
            Some(REASON_CIRCUIT_OPEN)
        } else if self.dead_letter_failing() {
            Some(REASON_DEAD_LETTER_FAILED)
        } else {
            None
        }
    }

    /// A queue crossed a watermark (called outside the queue lock).
    pub(crate) fn on_queue_signal(&self, signal: QueueSignal) {
        let (level, reason) = match self.fault() {
            Some(fault) if signal.level < BackpressureLevel::Hard => {
                (BackpressureLevel::Hard, fault)
            }
            _ => (signal.level, signal.reason),
        };
        self.emit(level, reason, signal.size, signal.seq);
    }

    /// The breaker opened (`true`) or closed (`false`).
    pub(crate) fn on_circuit(&self, open: bool, queue_size: usize, queue_level: BackpressureLevel) {
        self.circuit_open.store(open, Ordering::Release);
        let reason = if open {
            REASON_CIRCUIT_OPEN
        } else {
            self.fault().unwrap_or(REASON_CIRCUIT_CLOSED)
        };
        let seq = self.sequence.next();
        self.emit(self.effective_level(queue_level), reason, queue_size, seq);
    }

    /// A worker's dead-letter append started failing (`true`) or succeeded again after
    /// failing (`false`). The first failure announces HARD, the last recovery the queue's
    /// level.
    pub(crate) fn on_dead_letter(
        &self,
        failing: bool,
        queue_size: usize,
        queue_level: BackpressureLevel,
    ) {
        let announce = if failing {
            self.dead_letter_failing.fetch_add(1, Ordering::AcqRel) == 0
        } else {
            self.dead_letter_failing.fetch_sub(1, Ordering::AcqRel) == 1
        };
        if !announce {
            return;
        }
        let reason = self.fault().unwrap_or(REASON_DEAD_LETTER_RECOVERED);
        let seq = self.sequence.next();
        self.emit(self.effective_level(queue_level), reason, queue_size, seq);
    }

    /// The effective level given the queue's.
    pub(crate) fn effective_level(&self, queue_level: BackpressureLevel) -> BackpressureLevel {
        if self.fault().is_some() {
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
        let reason = self.fault().unwrap_or(REASON_HEARTBEAT);
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
        self.metrics
            .backpressure_level
            .get_or_create(&CoordLabels {
                coord_id: self.coord_id.clone(),
            })
            .set(i64::from(level_code(level)));
        let before = self.announced.swap(level_code(level), Ordering::AcqRel);
        if before != level_code(level) && !(before == u8::MAX && level == BackpressureLevel::Ok) {
            tracing::info!(coord_id = %self.coord_id, level = level.as_str(), reason, size,
                capacity = self.capacity, "store level changed");
        } else {
            tracing::debug!(coord_id = %self.coord_id, level = level.as_str(), reason, size, seq,
                "feedback");
        }
        self.bus.publish(self.event(level, reason, size, seq));
    }
}

/// The gauge value of `level`: 0 ok, 1 soft, 2 hard.
fn level_code(level: BackpressureLevel) -> u8 {
    match level {
        BackpressureLevel::Ok => 0,
        BackpressureLevel::Soft => 1,
        BackpressureLevel::Hard => 2,
    }
}
