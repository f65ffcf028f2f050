//! The two feedback modes side by side: `mdp run` (the binary built by cargo for this
//! bench) with a sink limited to 2 000 bars/s and a pipeline asking 20 000, once with
//! `MDP_FB_MODE=levels` and once with `adaptive`, everything else on the defaults. For each:
//! bars written per second while the pipeline ran, as a share of the sink's rate (the drain
//! at the end is left out: its last partial batch waits for the flush interval whatever the
//! mode), hard episodes after the first second, and the p99 queue depth (sampled every
//! 50 ms) as a share of the capacity.

use std::process::Command;

use crate::summary::Summary;

/// The sink's rate, bars per second.
const SINK_RATE: f64 = 2_000.0;
/// The pipeline's rate, bars per second.
const PIPELINE_RATE: f64 = 20_000.0;

/// Runs both modes for `seconds` each.
pub(crate) fn measure(summary: &mut Summary, seconds: u64) {
    for mode in ["levels", "adaptive"] {
        let run = run(mode, seconds);
        let field = |name: &str| run[name].as_f64().unwrap_or(f64::NAN);
        let share = field("bars_per_sec_while_running") / SINK_RATE;
        let p99 = field("queue_depth_p99") / field("capacity");
        let late = field("hard_episodes_after_start");
        println!(
            "mdp run {mode:<8}: {:.0} bars/s ({:.3} of the sink), {} hard episodes ({late} \
             after 1 s), queue p99 {:.0} of {}, {} adjustments",
            field("bars_per_sec_while_running"),
            share,
            field("hard_episodes"),
            field("queue_depth_p99"),
            field("capacity"),
            field("rate_adjustments"),
        );
        summary.value(
            &format!("fb {mode}: written / sink rate (%)"),
            share * 100.0,
        );
        summary.value(&format!("fb {mode}: hard episodes after 1 s"), late);
        summary.value(
            &format!("fb {mode}: queue depth p99 (% of capacity)"),
            p99 * 100.0,
        );
    }
}

/// The JSON summary of one run in `mode`.
fn run(mode: &str, seconds: u64) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_mdp"))
        .args(["run", "--bus", "inmem", "--json", "--sink", "memory://"])
        .args(["--sink-rate", &SINK_RATE.to_string()])
        .args(["--rate", &PIPELINE_RATE.to_string()])
        .args(["--duration", &seconds.to_string()])
        .arg("--dead-letter-file")
        .arg(dir.path().join("dead-letters.ndjson"))
        .env("MDP_FB_MODE", mode)
        .current_dir(dir.path())
        .output()
        .expect("runs mdp");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "mdp run failed: {stderr}");
    let run: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("mdp run --json summary");
    assert_eq!(run["dropped"].as_u64(), Some(0), "nothing dropped: {run}");
    assert_eq!(
        run["written"].as_u64(),
        run["offered"].as_u64(),
        "every bar offered is written: {run}"
    );
    run
}
