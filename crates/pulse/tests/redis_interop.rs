//! Wire interop with the Python originals over a real Redis: an entry written by
//! `redis-cli XADD` with the Python codec's JSON is consumed, and an entry we publish
//! decodes and hash-verifies by the Python rules (checked by Python itself).

mod support;

use std::process::Command;

use core_contracts::{BackpressureLevel, FeedbackEvent};
use support::Harness;

const PY_CODEC: &str = r#"{"ts": 1795343812.6251104, "key": "bars-coord", "meta": {"schema_id": "telemetry.FeedbackEvent", "track": "v1", "headers": {}, "hash": "65e1bc4bb4ffe69895da0cdb37333aa7f0c4a58f9ef21645717d91df18003dc3"}, "payload": {"coordinator_id": "bars-coord", "queue_size": 80, "capacity": 100, "level": "soft", "source": "store", "ts": 1729234567.123}}"#;

fn redis_cli(args: &[&str]) -> String {
    let url = support::redis_url();
    let out = Command::new("redis-cli")
        .arg("-u")
        .arg(&url)
        .args(args)
        .output()
        .expect("redis-cli runs (is it installed?)");
    assert!(
        out.status.success(),
        "redis-cli failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[tokio::test]
async fn an_entry_written_by_redis_cli_with_python_json_is_consumed() {
    let Some(h) = Harness::redis().await else {
        return;
    };
    let pulse = h.pulse_with(|c| c.enforcement = pulse::Enforcement::Strict);
    let stream = pulse.stream("telemetry.feedback");
    let mut sub = pulse
        .subscribe::<FeedbackEvent>("telemetry.feedback", "pipeline", "c1")
        .await
        .expect("subscribes");
    let id = redis_cli(&["XADD", stream.key(), "*", "data", PY_CODEC]);
    let delivery = sub.next().await.expect("delivered");
    assert_eq!(delivery.id(), id.trim());
    assert_eq!(delivery.envelope.payload.level, BackpressureLevel::Soft);
    assert_eq!(delivery.envelope.payload.queue_size, 80);
    assert_eq!(delivery.envelope.key.as_deref(), Some("bars-coord"));
}

const PYTHON_DECODER: &str = r#"
import hashlib, json, sys
entry = json.loads(sys.stdin.read())
assert set(entry) == {"ts", "key", "meta", "payload"}, sorted(entry)
meta = entry["meta"]
assert meta["schema_id"] == "telemetry.FeedbackEvent"
assert meta["track"] in ("v1", "v2")
assert isinstance(meta["headers"], dict)
digest = hashlib.sha256(json.dumps(entry["payload"], separators=(",", ":")).encode()).hexdigest()
assert digest == meta["hash"], (digest, meta["hash"])
p = entry["payload"]
assert list(p) == ["coordinator_id", "queue_size", "capacity", "level", "source", "ts"], list(p)
print(p["coordinator_id"], p["level"], meta["headers"].get("utilization"))
"#;

#[tokio::test]
async fn our_published_entry_decodes_and_verifies_by_the_python_rules() {
    let Some(h) = Harness::redis().await else {
        return;
    };
    let pulse = h.pulse();
    let event = FeedbackEvent::new(
        "bars-coord",
        80,
        100,
        BackpressureLevel::Soft,
        1_729_234_567.123,
    )
    .expect("valid")
    .with_reason("queue_high_watermark")
    .with_seq(1);
    let wire = pulse
        .seal(&event, Some("bars-coord"))
        .expect("seals")
        .with_header("utilization", format!("{:.6}", event.utilization()));
    pulse
        .publish_event("telemetry.feedback", &wire)
        .await
        .expect("publishes");
    let raw = redis_cli(&[
        "--raw",
        "XRANGE",
        pulse.stream("telemetry.feedback").key(),
        "-",
        "+",
    ]);
    let data = raw.lines().nth(2).expect("id, field name, then data");
    let mut python = Command::new("python3")
        .args(["-c", PYTHON_DECODER])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    python
        .stdin
        .take()
        .expect("stdin")
        .write_all(data.as_bytes())
        .expect("writes");
    let out = python.wait_with_output().expect("python3 ends");
    assert!(
        out.status.success(),
        "python rejected our entry: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "bars-coord soft 0.800000"
    );
}

#[tokio::test]
async fn the_python_key_prefix_is_honoured() {
    let Some(h) = Harness::redis().await else {
        return;
    };
    let pulse = h.pulse_with(|c| c.key_prefix = format!("{}mdp:", h.prefix));
    pulse
        .publish("telemetry.feedback", &support::event(1), None)
        .await
        .expect("publishes");
    let len = redis_cli(&["XLEN", &format!("{}mdp:mdp.telemetry.feedback", h.prefix)]);
    assert_eq!(len.trim(), "1");
}
