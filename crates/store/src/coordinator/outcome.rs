//! What became of each batch: written to the sink or dead-lettered. A coordinator reports
//! every batch it finishes to the callback given to
//! [`CoordinatorBuilder::on_outcome`](super::CoordinatorBuilder::on_outcome), so that the
//! caller can settle the bars' sources (e.g. acknowledge their bus entries by the tickets
//! given to [`WriteCoordinator::submit_tagged`](super::WriteCoordinator::submit_tagged))
//! once they are durably recorded.

use std::path::Path;
use std::sync::Arc;

use core_contracts::Bar;

use super::Ticket;

/// The fate of one batch (or part of a bisected batch), reported once the bars are durably
/// recorded somewhere. `tickets` runs parallel to `bars`: `tickets[i]` is the ticket `bars[i]`
/// was submitted with (`None` for untagged bars).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchOutcome<'a> {
    /// The sink wrote these bars.
    Written {
        /// The bars of the batch.
        bars: &'a [Bar],
        /// Their tickets, in the same order.
        tickets: &'a [Option<Ticket>],
    },
    /// These bars were appended (and synced) to the dead-letter file; replay them from there.
    DeadLettered {
        /// The bars of the batch.
        bars: &'a [Bar],
        /// Their tickets, in the same order.
        tickets: &'a [Option<Ticket>],
        /// The dead-letter file they are in.
        file: &'a Path,
        /// Why: `transient` (the give-up deadline passed), `permanent`, `panic`,
        /// `drop_oldest` or `stopped`.
        error_type: &'a str,
    },
}

impl<'a> BatchOutcome<'a> {
    /// The bars of the batch, whatever became of them.
    pub fn bars(&self) -> &'a [Bar] {
        match *self {
            Self::Written { bars, .. } | Self::DeadLettered { bars, .. } => bars,
        }
    }

    /// The tickets of the bars, parallel to [`BatchOutcome::bars`].
    pub fn tickets(&self) -> &'a [Option<Ticket>] {
        match *self {
            Self::Written { tickets, .. } | Self::DeadLettered { tickets, .. } => tickets,
        }
    }

    /// Whether the bars went to the dead-letter file.
    pub fn is_dead_lettered(&self) -> bool {
        matches!(self, Self::DeadLettered { .. })
    }
}

/// The callback a coordinator reports each finished batch to. It runs on the worker that
/// finished the batch, so it must be quick and must not block (hand work to a channel).
pub(crate) type OutcomeFn = Arc<dyn Fn(BatchOutcome<'_>) + Send + Sync>;
