//! The whole loop of `mdp run`, measured in one run:
//!
//! 1. end-to-end bars/s (synthetic source at an unlimited rate -> rate coordinator ->
//!    `WriteCoordinator` -> sink, in-memory feedback active) beside the raw speed of the same
//!    sink written directly in batches of the coordinator's size, into SQLite and PostgreSQL;
//! 2. feedback reaction time, from a hard (or ok) event published on the store's feedback
//!    bus to the new rate in force on the rate coordinator, in memory and over Redis;
//! 3. peak resident memory of the `mdp run` binary for 1 and 10 million bars;
//! 4. the feedback modes side by side: `mdp run` with a sink at 2 000 bars/s and a pipeline
//!    asking 20 000, in `levels` and in `adaptive` mode (share of the sink's rate written,
//!    hard episodes after the first second, p99 queue depth).
//!
//! Criterion prints the throughput figures; a summary table follows (also written as JSON to
//! `$CARGO_TARGET_DIR/mdp-bench/mdp.json` for `cargo xtask bench`). PostgreSQL runs at
//! `MDP_TEST_DATABASE_URL` (default `postgres://root@127.0.0.1:5432/test`) in schemas of its
//! own, dropped afterwards; Redis at `MDP_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379/0`) under a key prefix of its own, deleted afterwards. Either is
//! skipped with a message when unreachable. The memory figures need `/usr/bin/time`.
//!
//! Run: `cargo bench -p mdp --bench loop` (about four minutes). Under `cargo test
//! --benches` every part runs once on small sizes and no summary is written.

#[path = "loop/control.rs"]
mod control;
#[path = "loop/memory.rs"]
mod memory;
#[path = "loop/reaction.rs"]
mod reaction;
#[path = "loop/summary.rs"]
mod summary;
#[path = "loop/throughput.rs"]
mod throughput;

use std::time::Duration;

use criterion::Criterion;

use summary::Summary;

/// Whether this is a benchmark run (`cargo bench`) rather than a smoke test.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list")
}

fn main() {
    let full = benchmarking();
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut summary = Summary::default();

    let bars = if full { 200_000 } else { 2_000 };
    throughput::bench(&mut criterion, &rt, &mut summary, bars);

    let samples = if full { 2_000 } else { 20 };
    reaction::measure(&rt, &mut summary, samples);

    let runs: &[u64] = if full {
        &[1_000_000, 10_000_000]
    } else {
        &[10_000]
    };
    memory::measure(&mut summary, runs);

    control::measure(&mut summary, if full { 10 } else { 2 });

    if full {
        summary.report("mdp.json");
    }
    criterion.final_summary();
}
