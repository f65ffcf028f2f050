//! Sources pumped through the rate coordinator into a submitter.

mod support;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use pipeline::rate::{ProviderConfig, RateCoordinator};
use pipeline::source::{CsvReplay, Pump, SourceError, SyntheticSource};
use support::RecordingSubmitter;
use tokio::time::Instant;

const HEADER: &str = "provider,symbol,resolution,ts,open,high,low,close,volume,delayed\n";
const ROW_1: &str = "ibkr,AAPL,1m,2024-05-01T13:30:00Z,187.25,187.90,187.10,187.80,12000,false\n";
const ROW_2: &str = "ibkr,AAPL,1m,2024-05-01T13:31:00Z,187.80,188.00,187.50,187.60,9000,\n";
const ROW_3: &str = "ibkr,MSFT,5m,2024-05-01T13:30:00+00:00,410.5,411,410,410.75,300.5,true\n";

fn rates(capacity: u32, rate: f64) -> Arc<RateCoordinator> {
    let rates = RateCoordinator::new();
    rates
        .register_provider("ibkr", ProviderConfig::new(capacity, rate))
        .expect("provider");
    Arc::new(rates)
}

fn malformed_line(csv: &str) -> (u64, String) {
    let result: Result<Vec<_>, _> = CsvReplay::from_reader(csv.as_bytes())
        .expect("header")
        .collect();
    match result {
        Err(SourceError::MalformedRow { line, reason, .. }) => (line, reason),
        other => panic!("expected a malformed row, got {other:?}"),
    }
}

#[test]
fn csv_replay_reads_every_column() {
    let csv = format!("{HEADER}{ROW_1}{ROW_2}{ROW_3}");
    let bars: Vec<_> = CsvReplay::from_reader(csv.as_bytes())
        .expect("header")
        .collect::<Result<_, _>>()
        .expect("valid rows");
    assert_eq!(bars.len(), 3);
    assert_eq!(bars[0].close.to_string(), "187.80");
    assert!(!bars[1].delayed);
    assert!(bars[2].delayed);
    assert_eq!(bars[2].volume.to_string(), "300.5");
    assert_eq!(bars[2].ts.to_rfc3339(), "2024-05-01T13:30:00+00:00");
}

#[test]
fn csv_replay_rejects_a_malformed_row_with_its_line_number() {
    let cases = [
        // (rows after the header, line, words in the reason)
        (
            format!("{ROW_1}{ROW_2}ibkr,AAPL,1m,2024-05-01T13:32:00Z,abc,1,1,1,1,\n"),
            4,
            "open",
        ),
        (
            format!("{ROW_1}ibkr,AAPL,1m,yesterday,1,1,1,1,1,\n"),
            3,
            "ts",
        ),
        (
            format!("ibkr,AAPL,1m,2024-05-01T13:30:00Z,1,1,2,1,1,\n{ROW_1}"),
            2,
            "low",
        ),
        (format!("{ROW_1}{ROW_2}{ROW_3}ibkr,AAPL,1m\n"), 5, "fields"),
        (
            format!("{ROW_1}ibkr,AAPL,1m,2024-05-01T13:30:00Z,1,1,1,1,1,maybe\n"),
            3,
            "delayed",
        ),
        (
            format!("{ROW_1},AAPL,1m,2024-05-01T13:30:00Z,1,1,1,1,1,\n"),
            3,
            "provider",
        ),
    ];
    for (rows, line, word) in cases {
        let (got_line, reason) = malformed_line(&format!("{HEADER}{rows}"));
        assert_eq!(got_line, line, "{reason}");
        assert!(reason.contains(word), "{reason:?} should mention {word}");
        let message = SourceError::MalformedRow {
            line,
            reason,
            row: String::new(),
        }
        .to_string();
        assert!(message.starts_with(&format!("line {line}: ")), "{message}");
    }
}

#[test]
fn csv_replay_names_a_missing_column() {
    let err =
        CsvReplay::from_reader("provider,symbol,resolution,ts,open,high,low,close\n".as_bytes())
            .expect_err("volume missing");
    assert!(matches!(err, SourceError::MissingColumn("volume")), "{err}");
}

#[tokio::test(start_paused = true)]
async fn csv_replay_from_a_file_feeds_every_bar_to_the_submitter() {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    write!(file, "{HEADER}{ROW_1}{ROW_2}{ROW_3}").expect("written");
    let submitter = Arc::new(RecordingSubmitter::default());
    let pump = Pump::new(rates(60, 60.0), "ibkr", submitter.clone()).batch_size(2);
    let stats = pump
        .run(CsvReplay::open(file.path()).expect("opens"))
        .await
        .expect("pumped");
    assert_eq!((stats.bars, stats.batches), (3, 2));
    let symbols: Vec<_> = submitter.bars().into_iter().map(|b| b.symbol).collect();
    assert_eq!(symbols, ["AAPL", "AAPL", "MSFT"]);
}

#[tokio::test(start_paused = true)]
async fn bars_read_before_a_malformed_row_are_submitted_before_the_error() {
    let csv = format!("{HEADER}{ROW_1}{ROW_2}ibkr,AAPL,1m,bad,1,1,1,1,1,\n{ROW_3}");
    let submitter = Arc::new(RecordingSubmitter::default());
    let pump = Pump::new(rates(60, 60.0), "ibkr", submitter.clone()).batch_size(10);
    let err = pump
        .run(CsvReplay::from_reader(csv.as_bytes()).expect("header"))
        .await
        .expect_err("malformed row");
    assert!(
        matches!(err, SourceError::MalformedRow { line: 4, .. }),
        "{err}"
    );
    assert_eq!(submitter.bars().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_synthetic_source_is_paced_by_the_rate() {
    let submitter = Arc::new(RecordingSubmitter::default());
    let pump = Pump::new(rates(10, 10.0), "ibkr", submitter.clone()).batch_size(10);
    let source =
        SyntheticSource::new("ibkr", vec!["AAPL".into(), "MSFT".into()], "1m", 42).expect("source");
    let start = Instant::now();
    let stats = pump.run(source.take(35).map(Ok)).await.expect("pumped");
    assert_eq!((stats.bars, stats.batches), (35, 4));
    // The first 10 bars are the burst; 25 more at 10/s take 2.5 s.
    assert_eq!(start.elapsed(), Duration::from_millis(2500));
    let expected: Vec<_> =
        SyntheticSource::new("ibkr", vec!["AAPL".into(), "MSFT".into()], "1m", 42)
            .expect("source")
            .take(35)
            .collect();
    assert_eq!(submitter.bars(), expected);
}

#[tokio::test(start_paused = true)]
async fn a_failed_submit_stops_the_pump_and_counts_against_the_breaker() {
    let submitter = Arc::new(RecordingSubmitter::failing_from(2));
    let rates = rates(60, 60.0);
    let pump = Pump::new(rates.clone(), "ibkr", submitter).batch_size(5);
    let source = SyntheticSource::new("ibkr", vec!["AAPL".into()], "1m", 1).expect("source");
    let err = pump
        .run(source.take(50).map(Ok))
        .await
        .expect_err("submit fails");
    assert!(
        matches!(err, SourceError::Submit { submitted: 10, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("store unavailable"), "{err}");
    // Four more failures open the default breaker (threshold 5).
    for _ in 0..4 {
        rates.record_failure("ibkr").expect("provider");
    }
    assert!(rates.acquire("ibkr", 1).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_batch_above_the_capacity_is_refused() {
    let pump = Pump::new(
        rates(10, 10.0),
        "ibkr",
        Arc::new(RecordingSubmitter::default()),
    )
    .batch_size(11);
    let source = SyntheticSource::new("ibkr", vec!["AAPL".into()], "1m", 1).expect("source");
    let err = pump
        .run(source.take(20).map(Ok))
        .await
        .expect_err("too large");
    assert!(err.to_string().contains("at most 10"), "{err}");
}
