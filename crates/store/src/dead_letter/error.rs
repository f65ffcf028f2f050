//! Errors of the dead-letter file.

use std::path::PathBuf;

/// Why the dead-letter file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// A file operation failed.
    #[error("dead-letter file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A record could not be encoded.
    #[error("cannot encode dead-letter record: {0}")]
    Encode(#[from] serde_json::Error),
    /// The blocking file task did not finish.
    #[error("dead-letter file task failed: {0}")]
    Task(String),
}

impl DeadLetterError {
    pub(super) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
