//! One line of the dead-letter file.

use chrono::{DateTime, SecondsFormat, Utc};
use core_contracts::Bar;
use serde::{Deserialize, Serialize};

use crate::sink::Revision;

/// A batch that could not be written: the bars, why, and when.
///
/// Bars are written in their lossless wire JSON (decimals as strings, RFC 3339 times), so a
/// replay writes exactly what was submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetterRecord {
    /// When the batch was dead-lettered, RFC 3339 UTC.
    pub time: String,
    /// The same instant, Unix epoch seconds.
    pub ts: f64,
    /// Coordinator that gave up on the batch.
    pub coord_id: String,
    /// The last error, as text.
    pub error: String,
    /// The kind of the last error: `transient`, `permanent`, `panic`, `drop_oldest`, `stopped`.
    pub error_type: String,
    /// Write attempts made.
    pub attempts: u32,
    /// The bars, in submission order.
    pub items: Vec<Bar>,
    /// The revision of each bar, in parallel with `items`; absent in files written before
    /// revisions (a replay then gives the bars fresh ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revisions: Option<Vec<Revision>>,
}

impl DeadLetterRecord {
    /// A record stamped at `unix_seconds`.
    pub fn new(
        coord_id: impl Into<String>,
        error: impl Into<String>,
        error_type: impl Into<String>,
        attempts: u32,
        items: Vec<Bar>,
        unix_seconds: f64,
    ) -> Self {
        let time = DateTime::<Utc>::from_timestamp_micros((unix_seconds * 1e6) as i64)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Micros, true);
        Self {
            time,
            ts: unix_seconds,
            coord_id: coord_id.into(),
            error: error.into(),
            error_type: error_type.into(),
            attempts,
            items,
            revisions: None,
        }
    }

    /// The record with `revisions`, one per bar.
    pub fn with_revisions(mut self, revisions: Vec<Revision>) -> Self {
        self.revisions = Some(revisions);
        self
    }
}
