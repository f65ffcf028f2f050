//! The one error type of the source module.

use core_contracts::BoxError;

use crate::rate::RateError;

/// Why a source stopped.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A CSV row that is not a valid bar; `line` is 1-based and counts the header.
    #[error("line {line}: {reason}")]
    MalformedRow {
        /// The line of the row in the file.
        line: u64,
        /// What is wrong with it.
        reason: String,
        /// The row as CSV (its fields trimmed), or empty when it could not be read as CSV.
        row: String,
    },
    /// The CSV file could not be read.
    #[error("cannot read bars: {0}")]
    Io(#[from] std::io::Error),
    /// The CSV header lacks a required column.
    #[error("csv header lacks the column {0:?}")]
    MissingColumn(&'static str),
    /// The rate coordinator refused the request.
    #[error(transparent)]
    Rate(#[from] RateError),
    /// The submitter refused a batch.
    #[error("submit failed after {submitted} bars: {source}")]
    Submit {
        /// Bars accepted before the failure.
        submitted: u64,
        /// What the submitter reported.
        source: BoxError,
    },
    /// A source configuration that cannot produce bars.
    #[error("invalid source: {0}")]
    Invalid(String),
}
