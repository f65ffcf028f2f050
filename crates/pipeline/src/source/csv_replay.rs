//! `CsvReplay`: real bars from a CSV file with the columns
//! `provider,symbol,resolution,ts,open,high,low,close,volume[,delayed]`.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use core_contracts::Bar;
use rust_decimal::Decimal;

use super::SourceError;

const COLUMNS: [&str; 9] = [
    "provider",
    "symbol",
    "resolution",
    "ts",
    "open",
    "high",
    "low",
    "close",
    "volume",
];

/// Bars read row by row from CSV with a header naming the columns (in any order; unknown
/// columns are ignored). `ts` is RFC 3339; prices and volume are exact decimals; `delayed`
/// is optional (`true`/`false`/`1`/`0`, blank is false).
///
/// A row that is not a valid bar yields [`SourceError::MalformedRow`] with its line number.
///
/// ```
/// use pipeline::source::{CsvReplay, SourceError};
/// let csv = "provider,symbol,resolution,ts,open,high,low,close,volume\n\
///            ibkr,AAPL,1m,2024-05-01T13:30:00Z,187.25,187.90,187.10,187.80,12000\n\
///            ibkr,AAPL,1m,2024-05-01T13:31:00Z,187.80,187.00,187.50,187.60,9000\n";
/// let mut rows = CsvReplay::from_reader(csv.as_bytes())?;
/// assert_eq!(rows.next().transpose()?.map(|b| b.close.to_string()), Some("187.80".into()));
/// assert!(matches!(rows.next(), Some(Err(SourceError::MalformedRow { line: 3, .. }))));
/// # Ok::<(), SourceError>(())
/// ```
#[derive(Debug)]
pub struct CsvReplay<R> {
    reader: csv::Reader<R>,
    columns: [usize; 9],
    delayed: Option<usize>,
    record: csv::StringRecord,
}

impl CsvReplay<File> {
    /// Replays the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SourceError> {
        Self::from_reader(File::open(path)?)
    }
}

impl<R: Read> CsvReplay<R> {
    /// Replays CSV read from `reader`; the header is read at once.
    pub fn from_reader(reader: R) -> Result<Self, SourceError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(reader);
        let headers = reader.headers().map_err(|e| row_error(&e, 1))?.clone();
        let find = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let mut columns = [0; 9];
        for (slot, name) in columns.iter_mut().zip(COLUMNS) {
            *slot = find(name).ok_or(SourceError::MissingColumn(name))?;
        }
        Ok(Self {
            reader,
            columns,
            delayed: find("delayed"),
            record: csv::StringRecord::new(),
        })
    }

    fn parse_record(&self) -> Result<Bar, String> {
        let field = |i: usize| self.record.get(self.columns[i]).unwrap_or("");
        let decimal = |i: usize| {
            Decimal::from_str(field(i))
                .map_err(|e| format!("{}: {e}, got {:?}", COLUMNS[i], field(i)))
        };
        let ts = DateTime::parse_from_rfc3339(field(3))
            .map_err(|e| format!("ts: {e}, got {:?} (RFC 3339 expected)", field(3)))?
            .with_timezone(&Utc);
        let delayed = match self.delayed.and_then(|i| self.record.get(i)).unwrap_or("") {
            "" | "false" | "False" | "FALSE" | "0" => false,
            "true" | "True" | "TRUE" | "1" => true,
            other => return Err(format!("delayed: must be true or false, got {other:?}")),
        };
        let bar = Bar {
            provider: field(0).to_owned(),
            symbol: field(1).to_owned(),
            resolution: field(2).to_owned(),
            ts,
            open: decimal(4)?,
            high: decimal(5)?,
            low: decimal(6)?,
            close: decimal(7)?,
            volume: decimal(8)?,
            delayed,
        };
        bar.validate().map_err(|e| e.to_string())?;
        Ok(bar)
    }
}

fn row_error(error: &csv::Error, fallback_line: u64) -> SourceError {
    SourceError::MalformedRow {
        line: error.position().map_or(fallback_line, csv::Position::line),
        reason: error.to_string(),
        row: String::new(),
    }
}

/// `record` written back as one CSV line (without its line break).
fn as_csv(record: &csv::StringRecord) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    if writer.write_record(record).is_err() {
        return String::new();
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches(['\r', '\n'])
        .to_owned()
}

impl<R: Read> Iterator for CsvReplay<R> {
    type Item = Result<Bar, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(0, csv::Position::line);
                Some(
                    self.parse_record()
                        .map_err(|reason| SourceError::MalformedRow {
                            line,
                            reason,
                            row: as_csv(&self.record),
                        }),
                )
            }
            Err(error) => {
                let row = row_error(&error, self.reader.position().line());
                Some(Err(match error.into_kind() {
                    csv::ErrorKind::Io(io) => SourceError::Io(io),
                    _ => row,
                }))
            }
        }
    }
}
