//! Errors of the coordinator: refused configurations and refused submissions.

use std::path::PathBuf;

use core_contracts::{Bar, ContractError};

use crate::queue::WatermarkError;

/// Why a coordinator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// A setting is out of range.
    #[error("invalid coordinator config: {0}")]
    InvalidConfig(String),
    /// The watermarks break `low < high <= capacity`.
    #[error("invalid coordinator config: {0}")]
    Watermarks(#[from] WatermarkError),
    /// The dead-letter file cannot be created or opened for append.
    #[error("cannot open the dead-letter file {} for append", path.display())]
    DeadLetterFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Why bars were not accepted. Refused bars come back in the error: nothing is lost silently.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The queue is full and the overflow strategy is `error`.
    #[error("queue is full ({} bars refused)", rejected.len())]
    QueueFull {
        /// The bars not accepted, in order.
        rejected: Vec<Bar>,
    },
    /// The coordinator is stopping or stopped.
    #[error("coordinator is closed ({} bars refused)", rejected.len())]
    Closed {
        /// The bars not accepted, in order.
        rejected: Vec<Bar>,
    },
    /// A bar breaks a rule of the contract; no bar of the call was accepted.
    #[error("bar {index} is invalid: {source}")]
    InvalidBar {
        /// Position of the first invalid bar in the call.
        index: usize,
        /// The rule it breaks.
        #[source]
        source: ContractError,
        /// Every bar of the call, in order.
        rejected: Vec<Bar>,
    },
}

impl SubmitError {
    /// The refused bars.
    pub fn into_rejected(self) -> Vec<Bar> {
        match self {
            Self::QueueFull { rejected }
            | Self::Closed { rejected }
            | Self::InvalidBar { rejected, .. } => rejected,
        }
    }
}
