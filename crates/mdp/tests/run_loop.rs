//! `mdp run` end to end: a sink throttled to a fixed rate, a pipeline offering ten times that
//! rate, and the feedback loop keeping the queue bounded without losing a bar, on each bus
//! backend and track of the test matrix.

mod support;

use serde_json::Value;
use support::matrix::each_leg;
use support::{bars, mdp, output};

fn summary(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().last().expect("a summary line");
    serde_json::from_str(line).expect("the summary is JSON")
}

#[test]
fn a_slow_sink_pauses_the_pipeline_and_every_offered_bar_is_written() {
    each_leg(|leg| {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("run.db");
        let mut cmd = mdp();
        leg.apply(&mut cmd);
        cmd.current_dir(dir.path())
            .env("MDS_COORDINATOR_CAPACITY", "1000")
            .env("MDS_COORDINATOR_BATCH_SIZE", "200")
            .args(["run", "--json", "--bars", "6000", "--rate", "20000"])
            .args(["--sink-rate", "2000", "--sink"])
            .arg(format!("sqlite://{}", db.display()));
        let out = output(cmd);
        assert!(
            out.status.success(),
            "mdp run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s = summary(&out.stdout);
        let n = |key: &str| s[key].as_u64().unwrap_or_else(|| panic!("{key} in {s}"));
        assert_eq!(n("offered"), 6000, "{s}");
        assert_eq!(n("written"), 6000, "{s}");
        assert_eq!(n("dropped"), 0, "{s}");
        assert_eq!(n("dead_lettered"), 0, "{s}");
        assert!(n("peak_queue_depth") <= n("capacity"), "{s}");
        assert!(
            s["feedback_events"]["hard"].as_u64() >= Some(1),
            "never hard: {s}"
        );
        assert!(
            s["feedback_events"]["ok"].as_u64() >= Some(1),
            "never back to ok: {s}"
        );
        assert_eq!(s["final_level"], "ok", "{s}");
        assert!(
            s["seconds_at_scale"]["0.00"].as_f64() > Some(0.0),
            "the pipeline never paused: {s}"
        );
        bars::assert_same(&bars::source(Some(6000), None), &bars::sqlite(&db));
    });
}

#[test]
fn a_run_that_dead_letters_a_bar_says_so_and_exits_3() {
    each_leg(|leg| {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("run.db");
        let mut cmd = mdp();
        leg.apply(&mut cmd);
        // Named: the dead-letter drill makes the sink refuse GOOG bars for good.
        cmd.current_dir(dir.path())
            .env("MDP_SINK_REJECT_SYMBOLS", "GOOG")
            .args([
                "run", "--json", "--bars", "400", "--rate", "100000", "--sink",
            ])
            .arg(format!("sqlite://{}", db.display()));
        let out = output(cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains("100 bars were dead-lettered"), "{stderr}");
        let s = summary(&out.stdout);
        assert_eq!(s["dead_lettered"].as_u64(), Some(100), "{s}");
        assert_eq!(s["written"].as_u64(), Some(300), "{s}");
        let mut want = bars::source(Some(400), None);
        want.retain(|_, bar| bar.symbol != "GOOG");
        bars::assert_same(&want, &bars::sqlite(&db));
    });
}

#[test]
fn bad_configuration_exits_non_zero_with_a_message_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    type Case = (
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        &'static str,
    );
    let cases: [Case; 4] = [
        (&["run", "--sink", "mysql://x"], &[], "--sink"),
        (&["run", "--sink-rate", "0"], &[], "--sink-rate"),
        (
            &["run"],
            &[("MDS_COORDINATOR_CAPACITY", "zero")],
            "MDS_COORDINATOR_CAPACITY",
        ),
        (
            &["run"],
            &[("EVENT_BUS_BACKEND", "kafka")],
            "EVENT_BUS_BACKEND",
        ),
    ];
    for (args, env, expected) in cases {
        let mut cmd = mdp();
        cmd.current_dir(dir.path())
            .args(args)
            .envs(env.iter().copied());
        let out = output(cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} {env:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
