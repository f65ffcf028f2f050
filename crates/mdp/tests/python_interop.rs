//! mdp joined to a running Python stack, the Python originals themselves as the peers
//! (market-data-core 1.4.61 and market-data-store 0.6.73 from `interop/python`), over a
//! private Redis and with `PULSE_COMPAT=python` and `REGISTRY_ENFORCEMENT=strict`:
//!
//! - a Python process publishing feedback through the core's own `RedisStreamsBus.publish`,
//!   and one publishing exactly as market-data-store does (its envelope inside the core's),
//!   each steers a running `mdp pipeline` hard -> pause -> ok, while the Python side reads
//!   the pipeline's rate adjustments with the core's `subscribe` and verifies their hashes;
//!   every bar is written, as the source produced it, with nothing pending or dead-lettered;
//! - the core's `subscribe` reads what `mdp store` publishes, hashes verified.
//!
//! The processes run in the world's fast timings (0.3 s heartbeats, 2 s forget-after);
//! the Python peer publishes its level every 0.2 s, as a store's heartbeat would.

mod support;

use core_contracts::Track;
use pulse::testing::{PeerProcess, PythonPeer};
use support::world::{LONG, World, all_written, finish, stop};
use support::{free_port, metric, metrics, scale, wait_until};

/// The coordinator the Python peer speaks for: non-ASCII, so that a hash computed by the
/// old `json.dumps` rule would differ.
const PY_COORDINATOR: &str = "störe-ü";
const FEEDBACK: &str = "mdp.telemetry.feedback";
/// Bars the pipeline publishes, at `RATE` bars/s: long enough to steer it mid-run.
const BARS: u64 = 3000;
const RATE: &str = "500";

/// The bars the pipeline on `port` has published so far.
fn published(port: u16) -> f64 {
    support::published(port).unwrap_or(0.0)
}

/// Hard feedback events the pipeline has handled.
fn hard_events(port: u16) -> f64 {
    metric(
        &metrics(port),
        "feedback_events_processed_total",
        "level=\"hard\"",
    )
    .unwrap_or(0.0)
}

fn world() -> Option<(World, PythonPeer)> {
    // The Python originals write v1 (their codec is pinned to it): this suite stays on v1.
    let world = World::new(Track::V1)?.python_compat();
    Some((world, PythonPeer::find()?))
}

fn python(world: &World, peer: &PythonPeer, args: &[&str]) -> PeerProcess {
    let url = world.redis.url();
    let env = [
        ("REDIS_URL", url.as_str()),
        ("MD_NAMESPACE", "mdp"),
        ("EVENT_BUS_BACKEND", "redis"),
    ];
    let mut process = peer.spawn(args, &env);
    process.wait_line("its consumer group", LONG, |l| l == "ready");
    process
}

const STRICT: [(&str, &str); 1] = [("REGISTRY_ENFORCEMENT", "strict")];

fn adjusted_to(python: &mut PeerProcess, scale: &str) {
    let want = format!("adjust {scale} True");
    python.wait_line(
        &format!("a hash-verified adjustment to {scale}"),
        LONG,
        |l| l == want,
    );
}

/// Steers a running pipeline through the Python peer in `mode` (`core` or `store`) and
/// checks the compatibility rule `rule` let its feedback in.
fn steered_by_python(mode: &str, rule: &str) {
    let Some((world, peer)) = world() else {
        return;
    };
    let mut steer = python(&world, &peer, &["steer", "--mode", mode]);
    let store = world.store("store", &[], &STRICT);
    let (port, count) = (free_port(), BARS.to_string());
    let args = ["--bars", &count, "--rate", RATE];
    let mut pipeline = world.pipeline_at("pipeline", port, &args, &STRICT);
    assert!(
        wait_until(LONG, || scale(port) == Some(1.0) && published(port) > 0.0),
        "the pipeline did not start:\n{}",
        pipeline.log()
    );

    steer.send("hard");
    assert!(
        wait_until(LONG, || scale(port) == Some(0.0)),
        "the Python store's hard feedback did not pause the pipeline:\n{}",
        pipeline.log()
    );
    adjusted_to(&mut steer, "0.0");
    // Paused: while the pipeline handles more than five further hard events (a second of
    // the peer's cadence), at most the batch in flight is published.
    let (at_pause, hard) = (published(port), hard_events(port));
    assert!(
        wait_until(LONG, || hard_events(port) >= hard + 5.0),
        "hard events keep coming:\n{}",
        pipeline.log()
    );
    let during = published(port) - at_pause;
    assert!(during <= 50.0, "{during} bars published while paused");
    assert!(
        published(port) < BARS as f64,
        "the pipeline must still be mid-run"
    );

    let m = metrics(port);
    let admitted = metric(
        &m,
        "pulse_compat_total",
        &format!("stream=\"telemetry.feedback\",rule=\"{rule}\""),
    );
    assert!(
        admitted.is_some_and(|n| n > 0.0),
        "the {rule} rule is counted:\n{m}"
    );
    let mismatches = metric(&m, "pulse_hash_mismatch_total", "telemetry.feedback");
    assert_eq!(mismatches.unwrap_or(0.0), 0.0, "no hash mismatch:\n{m}");

    steer.send("ok");
    adjusted_to(&mut steer, "1.0");
    finish(&mut pipeline);
    all_written(&world, BARS, &[&store]);
    assert!(
        steer.seen().iter().all(|l| !l.ends_with(" False")),
        "every adjustment verifies in Python: {:?}",
        steer.seen()
    );
    assert_eq!(world.redis.len(&world.key(&format!("{FEEDBACK}.dlq"))), 0);
    let log = pipeline.log();
    assert!(
        log.contains(PY_COORDINATOR),
        "the pipeline names the Python coordinator as the cause:\n{log}"
    );
}

#[test]
fn the_python_core_bus_steers_a_running_pipeline_hard_pause_ok() {
    steered_by_python("core", "schema_alias");
}

#[test]
fn market_data_store_publishing_as_it_does_steers_a_running_pipeline_hard_pause_ok() {
    steered_by_python("store", "unwrapped_envelope");
}

#[test]
fn the_python_core_subscribe_reads_what_mdp_store_publishes_hashes_verified() {
    let Some((world, peer)) = world() else {
        return;
    };
    let mut consumer = python(&world, &peer, &["consume"]);
    let mut store = world.store("store", &[], &[("MDP_COORD_ID", PY_COORDINATOR)]);
    for _ in 0..3 {
        let line = consumer.wait_line("a feedback event of mdp store", LONG, |_| true);
        let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        assert_eq!(
            event,
            serde_json::json!({
                "schema_id": "telemetry.FeedbackEvent",
                "key": PY_COORDINATOR,
                "coordinator_id": PY_COORDINATOR,
                "level": "ok",
                "hash_ok": true,
            }),
            "{}",
            store.log()
        );
    }
    stop(&mut store);
}
