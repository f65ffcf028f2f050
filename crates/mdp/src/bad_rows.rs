//! What a pipeline does with CSV rows that are not valid bars (`--on-bad-row`): stop at the
//! first (the default), leave them out, or keep them in an NDJSON file of their own (line,
//! reason, row) and go on. Either way they are counted for the summary.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use core_contracts::Bar;
use pipeline::source::SourceError;

use crate::cli::OnBadRow;

/// Bad rows met so far.
#[derive(Debug, Default)]
pub struct BadRowCounts {
    skipped: AtomicU64,
    dead_lettered: AtomicU64,
}

impl BadRowCounts {
    /// Rows left out (`skip`).
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Rows kept in the bad-rows file (`dead-letter`).
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered.load(Ordering::Relaxed)
    }
}

/// The policy, the file of `dead-letter` and the counts.
#[derive(Debug, Clone)]
pub struct BadRowPolicy {
    /// What to do.
    pub on_bad_row: OnBadRow,
    /// Where `dead-letter` keeps them.
    pub file: PathBuf,
    /// What was done so far.
    pub counts: Arc<BadRowCounts>,
}

impl BadRowPolicy {
    /// `on_bad_row`, keeping rows in `file` for `dead-letter`.
    pub fn new(on_bad_row: OnBadRow, file: PathBuf) -> Self {
        Self {
            on_bad_row,
            file,
            counts: Arc::default(),
        }
    }

    /// `bars` with the policy applied: under `skip` and `dead-letter` malformed rows are
    /// taken out (counted, and written to the file for `dead-letter`); every other error,
    /// and a file that cannot be written, still ends the source.
    pub fn apply<I>(&self, bars: I) -> BadRowFilter<I>
    where
        I: Iterator<Item = Result<Bar, SourceError>>,
    {
        BadRowFilter {
            inner: bars,
            policy: self.clone(),
            out: None,
        }
    }
}

/// The iterator of [`BadRowPolicy::apply`].
#[derive(Debug)]
pub struct BadRowFilter<I> {
    inner: I,
    policy: BadRowPolicy,
    out: Option<BufWriter<File>>,
}

impl<I> BadRowFilter<I> {
    fn keep(&mut self, line: u64, reason: &str, row: &str) -> std::io::Result<()> {
        if self.out.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.policy.file)?;
            self.out = Some(BufWriter::new(file));
        }
        let record = serde_json::json!({ "line": line, "reason": reason, "row": row });
        if let Some(out) = self.out.as_mut() {
            writeln!(out, "{record}")?;
            out.flush()?;
        }
        Ok(())
    }
}

impl<I> Iterator for BadRowFilter<I>
where
    I: Iterator<Item = Result<Bar, SourceError>>,
{
    type Item = Result<Bar, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let item = self.inner.next()?;
            let Err(SourceError::MalformedRow { line, reason, row }) = item else {
                return Some(item);
            };
            match self.policy.on_bad_row {
                OnBadRow::Fail => {
                    return Some(Err(SourceError::MalformedRow { line, reason, row }));
                }
                OnBadRow::Skip => {
                    tracing::warn!(line, reason, "bad CSV row skipped");
                    self.policy.counts.skipped.fetch_add(1, Ordering::Relaxed);
                }
                OnBadRow::DeadLetter => {
                    if let Err(error) = self.keep(line, &reason, &row) {
                        let file = self.policy.file.display().to_string();
                        return Some(Err(SourceError::Io(std::io::Error::new(
                            error.kind(),
                            format!("cannot keep the bad row of line {line} in {file}: {error}"),
                        ))));
                    }
                    tracing::warn!(line, reason, file = %self.policy.file.display(),
                        "bad CSV row kept in the bad-rows file");
                    self.policy
                        .counts
                        .dead_lettered
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipeline::source::CsvReplay;

    const CSV: &str = "provider,symbol,resolution,ts,open,high,low,close,volume\n\
        ibkr,AAPL,1m,2024-05-01T13:30:00Z,1,2,1,2,10\n\
        ibkr,AAPL,1m,not-a-time,1,2,1,2,10\n\
        ibkr,AAPL,1m,2024-05-01T13:32:00Z,1,2,1,2,10\n\
        ibkr,\"A,B\",1m,2024-05-01T13:33:00Z,1,x,1,2,10\n\
        ibkr,AAPL,1m,2024-05-01T13:34:00Z,1,2,1,2,10\n";

    fn run(on_bad_row: OnBadRow, file: PathBuf) -> (Vec<String>, Option<String>, BadRowPolicy) {
        let policy = BadRowPolicy::new(on_bad_row, file);
        let mut ok = Vec::new();
        let mut error = None;
        for item in policy.apply(CsvReplay::from_reader(CSV.as_bytes()).expect("header")) {
            match item {
                Ok(bar) => ok.push(bar.ts.to_rfc3339()),
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        (ok, error, policy)
    }

    #[test]
    fn fail_stops_at_the_first_bad_row() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ok, error, policy) = run(OnBadRow::Fail, dir.path().join("bad.ndjson"));
        assert_eq!(ok.len(), 1);
        assert!(error.expect("an error").starts_with("line 3: ts:"));
        assert_eq!(policy.counts.skipped(), 0);
        assert!(!dir.path().join("bad.ndjson").exists());
    }

    #[test]
    fn skip_leaves_the_bad_rows_out_and_counts_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (ok, error, policy) = run(OnBadRow::Skip, dir.path().join("bad.ndjson"));
        assert_eq!(error, None);
        assert_eq!(ok.len(), 3);
        assert_eq!(policy.counts.skipped(), 2);
        assert!(!dir.path().join("bad.ndjson").exists());
    }

    #[test]
    fn dead_letter_keeps_each_bad_row_with_its_line_and_reason() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("bad.ndjson");
        let (ok, error, policy) = run(OnBadRow::DeadLetter, file.clone());
        assert_eq!(error, None);
        assert_eq!(ok.len(), 3);
        assert_eq!(policy.counts.dead_lettered(), 2);
        let text = std::fs::read_to_string(&file).expect("the bad-rows file");
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["line"], 3);
        assert_eq!(rows[0]["row"], "ibkr,AAPL,1m,not-a-time,1,2,1,2,10");
        assert_eq!(rows[1]["line"], 5);
        assert_eq!(
            rows[1]["row"],
            "ibkr,\"A,B\",1m,2024-05-01T13:33:00Z,1,x,1,2,10"
        );
        assert!(
            rows[1]["reason"]
                .as_str()
                .expect("reason")
                .starts_with("high:")
        );
    }

    #[test]
    fn a_file_that_cannot_be_written_ends_the_source_with_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("missing-dir").join("bad.ndjson");
        let (ok, error, _) = run(OnBadRow::DeadLetter, file);
        assert_eq!(ok.len(), 1);
        let error = error.expect("an error");
        assert!(
            error.contains("missing-dir") && error.contains("line 3"),
            "{error}"
        );
    }
}
