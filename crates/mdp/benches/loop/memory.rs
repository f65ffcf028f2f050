//! Peak resident memory of the `mdp run` binary (built by cargo for this bench) writing 1 and
//! 10 million bars into a SQLite file at an effectively unlimited rate with the default queue
//! capacity, read from `/usr/bin/time -v`: flat when memory is bounded by the queue, not by
//! the number of bars.

use std::path::Path;
use std::process::Command;

use crate::summary::Summary;

const TIME: &str = "/usr/bin/time";

/// The in-memory bus's retention in the extra run that tells the queue's share from the bus's.
const SMALL_RETENTION: &str = "1000";

/// Runs `mdp run` once per bar count of `runs`, then the largest again with the bus keeping
/// only [`SMALL_RETENTION`] entries per stream: the in-memory bus keeps every feedback event
/// and rate adjustment up to its retention (100 000 per stream by default), so with the
/// defaults memory also grows with the number of watermark crossings until that bound.
pub(crate) fn measure(summary: &mut Summary, runs: &[u64]) {
    if !Path::new(TIME).exists() {
        eprintln!("\n!!!!! SKIPPING the peak memory of mdp run: {TIME} is missing !!!!!\n");
        return;
    }
    for &bars in runs {
        let (kib, rate) = peak(bars, None);
        let label = label(bars);
        summary.value(&format!("mdp run peak RSS, {label} bars (KiB)"), kib);
        summary.value(&format!("mdp run {label} bars into SQLite (bars/s)"), rate);
    }
    if let Some(&largest) = runs.iter().max() {
        let (kib, _) = peak(largest, Some(SMALL_RETENTION));
        summary.value(
            &format!(
                "mdp run peak RSS, {} bars, bus retention {SMALL_RETENTION} (KiB)",
                label(largest)
            ),
            kib,
        );
    }
}

/// Peak RSS in KiB and bars/s of one `mdp run` of `bars` bars.
fn peak(bars: u64, retention: Option<&str>) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = format!("sqlite://{}", dir.path().join("peak.db").display());
    let mut command = Command::new(TIME);
    command
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_mdp"))
        .args(["run", "--bus", "inmem", "--json", "--rate", "1e9", "--bars"])
        .arg(bars.to_string())
        .args(["--sink", &sink, "--dead-letter-file"])
        .arg(dir.path().join("dead-letters.ndjson"))
        .current_dir(dir.path());
    if let Some(retention) = retention {
        command.env("PULSE_RETENTION_MAXLEN", retention);
    }
    let output = command.output().expect("runs mdp under /usr/bin/time");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "mdp run failed: {stderr}");
    let kib: f64 = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok())
        .expect("maximum resident set size reported");
    let run: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("mdp run --json summary");
    let field = |name: &str| run[name].as_f64().unwrap_or(f64::NAN);
    assert_eq!(
        run["written"].as_u64(),
        Some(bars),
        "every bar written: {run}"
    );
    println!(
        "mdp run {} bars{}: peak RSS {:.1} MiB, queue peak {} of {}, {} feedback events, \
         {:.0} bars/s in {:.1} s",
        label(bars),
        retention.map_or_else(String::new, |r| format!(" (bus retention {r})")),
        kib / 1024.0,
        field("peak_queue_depth"),
        field("capacity"),
        run["feedback_events"].as_object().map_or(0, |levels| levels
            .values()
            .filter_map(|v| v.as_u64())
            .sum::<u64>()),
        field("bars_per_sec"),
        field("seconds"),
    );
    (kib, field("bars_per_sec"))
}

/// `1M`, `10M`, `10k`.
fn label(bars: u64) -> String {
    match bars {
        b if b >= 1_000_000 && b % 1_000_000 == 0 => format!("{}M", b / 1_000_000),
        b if b >= 1_000 && b % 1_000 == 0 => format!("{}k", b / 1_000),
        b => b.to_string(),
    }
}
