//! Wire interop with the Python originals over a real Redis: an entry written by
//! `redis-cli XADD` with the Python codec's JSON is consumed, and what we publish is read by
//! market-data-core's own `subscribe`, its hash verified there.

mod support;

use std::process::Command;
use std::time::Duration;

use core_contracts::{BackpressureLevel, FeedbackEvent};
use pulse::testing::PythonPeer;
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

#[tokio::test]
async fn python_subscribe_reads_what_we_publish_and_its_hash_verifies() {
    let Some(h) = Harness::redis().await else {
        return;
    };
    let Some(peer) = PythonPeer::find() else {
        return;
    };
    // The Python bus keys stream `s` as `{MD_NAMESPACE}:s`; under PULSE_COMPAT=python so do
    // we, and the harness's prefix is `{namespace}:`, so its clean-up covers the keys.
    let namespace = h.prefix.trim_end_matches(':').to_owned();
    let lookup = |var: &str| match var {
        "PULSE_COMPAT" => Some("python".to_owned()),
        "MD_NAMESPACE" => Some(namespace.clone()),
        "REDIS_URL" => Some(support::redis_url()),
        _ => None,
    };
    let config = pulse::PulseConfig::from_lookup(lookup).expect("valid");
    assert_eq!(config.key_prefix, h.prefix);
    let pulse = pulse::Pulse::new(h.bus.clone(), config);
    let redis_url = support::redis_url();
    let mut python = peer.spawn(
        &["consume"],
        &[("REDIS_URL", &redis_url), ("MD_NAMESPACE", &namespace)],
    );
    python.wait_line("its consumer group", Duration::from_secs(30), |l| {
        l == "ready"
    });
    for (coordinator, ts) in [("störe-ü", 0.00005), ("bars\u{2028}\u{1f600}", 1e16)] {
        let event = FeedbackEvent::new(coordinator, 80, 100, BackpressureLevel::Soft, ts)
            .expect("valid")
            .with_reason("queue_high_watermark");
        pulse
            .publish("telemetry.feedback", &event, Some(coordinator))
            .await
            .expect("publishes");
        let line = python.wait_line("our event", Duration::from_secs(30), |_| true);
        let got: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        assert_eq!(
            got,
            serde_json::json!({
                "schema_id": "telemetry.FeedbackEvent",
                "key": coordinator,
                "coordinator_id": coordinator,
                "level": "soft",
                "hash_ok": true,
            })
        );
    }
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
