//! Replaying the dead-letter file: every record is written back through a sink with its
//! recorded revisions (fresh ones, which win, for a record written before revisions); the
//! records that still fail, and any line that cannot be decoded, stay in the file verbatim.

use std::io::Write;
use std::path::Path;

use crate::sink::{Revision, RevisionGenerator, Sink};

use super::{DeadLetterError, DeadLetterRecord};

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Records written to the sink and removed from the file.
    pub records_replayed: usize,
    /// Bars in those records.
    pub bars_written: usize,
    /// Records the sink refused again; they stay in the file.
    pub records_failed: usize,
    /// Lines that are not valid records; they stay in the file.
    pub lines_undecodable: usize,
}

impl ReplayReport {
    /// Whether the file is now empty (and removed).
    pub fn is_complete(&self) -> bool {
        self.records_failed == 0 && self.lines_undecodable == 0
    }
}

/// Reads every record of the file at `path` (a missing file has none); undecodable lines
/// are skipped.
pub async fn read_records(path: &Path) -> Result<Vec<DeadLetterRecord>, DeadLetterError> {
    Ok(read_lines(path)
        .await?
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

/// Writes every record of the dead-letter file at `path` through `sink`, one write per
/// record, then rewrites the file with only what is left (removing it when nothing is). A
/// record's bars are written with their recorded revisions, or with fresh ones from
/// `revisions` when it has none; a record whose revisions do not match its bars counts as
/// undecodable.
///
/// Sinks are idempotent on the bar key, so a replay interrupted half-way can simply be run
/// again. Do not replay a file that a running coordinator still appends to.
pub async fn replay(
    path: &Path,
    sink: &dyn Sink,
    revisions: &RevisionGenerator,
) -> Result<ReplayReport, DeadLetterError> {
    let lines = read_lines(path).await?;
    let mut report = ReplayReport::default();
    let mut kept = Vec::new();
    for line in lines {
        if line.trim().is_empty() {
            continue;
        }
        let record: DeadLetterRecord = match serde_json::from_str(&line) {
            Ok(record) => record,
            Err(e) => {
                tracing::warn!(error = %e, "undecodable dead-letter line kept");
                report.lines_undecodable += 1;
                kept.push(line);
                continue;
            }
        };
        let recorded: Vec<Revision> = match record.revisions {
            Some(recorded) if recorded.len() == record.items.len() => recorded,
            Some(recorded) => {
                tracing::warn!(
                    bars = record.items.len(),
                    revisions = recorded.len(),
                    "dead-letter record with mismatched revisions kept"
                );
                report.lines_undecodable += 1;
                kept.push(line);
                continue;
            }
            None => record.items.iter().map(|_| revisions.next()).collect(),
        };
        match sink.write(&record.items, &recorded).await {
            Ok(()) => {
                report.records_replayed += 1;
                report.bars_written += record.items.len();
            }
            Err(e) => {
                tracing::warn!(error = %e, "dead-letter record refused again, kept");
                report.records_failed += 1;
                kept.push(line);
            }
        }
    }
    if let Err(e) = sink.flush().await {
        tracing::warn!(error = %e, "sink flush after replay failed");
    }
    rewrite(path, kept).await?;
    Ok(report)
}

async fn read_lines(path: &Path) -> Result<Vec<String>, DeadLetterError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.lines().map(str::to_owned).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(DeadLetterError::io(path, e)),
    })
    .await
    .map_err(|e| DeadLetterError::Task(e.to_string()))?
}

/// Replaces the file with `lines` through a temporary file and a rename.
async fn rewrite(path: &Path, lines: Vec<String>) -> Result<(), DeadLetterError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        if lines.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(DeadLetterError::io(path, e))
                }
                _ => Ok(()),
            };
        }
        let mut tmp = path.clone().into_os_string();
        tmp.push(".replay-tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let mut file = std::fs::File::create(&tmp).map_err(|e| DeadLetterError::io(&tmp, e))?;
        for line in &lines {
            writeln!(file, "{line}").map_err(|e| DeadLetterError::io(&tmp, e))?;
        }
        file.sync_all().map_err(|e| DeadLetterError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| DeadLetterError::io(&path, e))
    })
    .await
    .map_err(|e| DeadLetterError::Task(e.to_string()))?
}
