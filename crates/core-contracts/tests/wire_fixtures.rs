//! JSON written by the Python originals decodes, re-encodes to an equal JSON value, and its
//! payload hash is reproduced.

use core_contracts::{
    BackpressureLevel, EventEnvelope, FeedbackEvent, Track, WireEvent, decode, hash_matches,
    payload_hash,
};
use serde_json::Value;

/// A `FeedbackEvent` as the Python core serializes it.
const PY_FEEDBACK: &str = r#"{"coordinator_id":"bars-coord","queue_size":80,"capacity":100,"level":"soft","source":"store","ts":1729234567.123}"#;

/// The envelope example of the store's Pulse design document.
const PY_ENVELOPE: &str = r#"{
  "id": "d581fe2a-f6b8-448b-aa0e-53d96ff2abce",
  "key": "bars-coord",
  "ts": 1729234567.123,
  "meta": {
    "schema_id": "telemetry.FeedbackEvent",
    "track": "v1",
    "headers": {
      "reason": "queue_high_watermark",
      "utilization": "0.800000"
    }
  },
  "payload": {
    "coordinator_id": "bars-coord",
    "queue_size": 80,
    "capacity": 100,
    "level": "soft",
    "source": "store",
    "ts": 1729234567.123
  }
}"#;

/// The Python codec's output for one stream entry's `data` field.
const PY_CODEC: &str = r#"{"ts": 1795343812.6251104, "key": "bars-coord", "meta": {"schema_id": "telemetry.FeedbackEvent", "track": "v1", "headers": {}, "hash": "65e1bc4bb4ffe69895da0cdb37333aa7f0c4a58f9ef21645717d91df18003dc3"}, "payload": {"coordinator_id": "bars-coord", "queue_size": 80, "capacity": 100, "level": "soft", "source": "store", "ts": 1729234567.123}}"#;

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

#[test]
fn python_feedback_event_round_trips() {
    let event: FeedbackEvent = decode(PY_FEEDBACK).expect("decodes");
    assert_eq!(event.level, BackpressureLevel::Soft);
    assert_eq!(
        serde_json::to_value(&event).expect("encodes"),
        json(PY_FEEDBACK)
    );
}

#[test]
fn python_feedback_event_encodes_to_the_same_bytes() {
    let event: FeedbackEvent = decode(PY_FEEDBACK).expect("decodes");
    assert_eq!(serde_json::to_string(&event).expect("encodes"), PY_FEEDBACK);
}

#[test]
fn design_document_envelope_round_trips() {
    let envelope: EventEnvelope<FeedbackEvent> = decode(PY_ENVELOPE).expect("decodes");
    assert_eq!(envelope.id, "d581fe2a-f6b8-448b-aa0e-53d96ff2abce");
    assert_eq!(envelope.meta.headers["utilization"], "0.800000");
    assert_eq!(
        serde_json::to_value(&envelope).expect("encodes"),
        json(PY_ENVELOPE)
    );
}

#[test]
fn python_codec_output_round_trips_and_its_hash_verifies() {
    let wire: WireEvent<FeedbackEvent> = decode(PY_CODEC).expect("decodes");
    assert_eq!(wire.meta.track, Track::V1);
    assert_eq!(
        serde_json::to_value(&wire).expect("encodes"),
        json(PY_CODEC)
    );

    let raw = json(PY_CODEC);
    assert!(hash_matches(&raw["payload"], wire.meta.hash.as_deref()));
    assert_eq!(
        payload_hash(&wire.payload).expect("hashes"),
        "65e1bc4bb4ffe69895da0cdb37333aa7f0c4a58f9ef21645717d91df18003dc3"
    );
}

#[test]
fn our_sealed_event_matches_the_python_codec_output() {
    let event = FeedbackEvent::new(
        "bars-coord",
        80,
        100,
        BackpressureLevel::Soft,
        1729234567.123,
    )
    .expect("valid")
    .with_reason("queue_high_watermark")
    .with_seq(7);
    let wire = WireEvent::seal(
        &event,
        Some("bars-coord".into()),
        1795343812.6251104,
        Track::V1,
    )
    .expect("seals");
    assert_eq!(
        serde_json::to_value(&wire).expect("encodes"),
        json(PY_CODEC)
    );
}

#[test]
fn a_tampered_payload_fails_the_hash() {
    let mut raw = json(PY_CODEC);
    raw["payload"]["queue_size"] = 81.into();
    let hash = raw["meta"]["hash"].as_str().map(str::to_owned);
    assert!(!hash_matches(&raw["payload"], hash.as_deref()));
}

#[test]
fn v2_payload_carries_the_extension_and_v1_readers_ignore_it() {
    let event = FeedbackEvent::new("bars-coord", 80, 100, BackpressureLevel::Hard, 1.0)
        .expect("valid")
        .with_reason("circuit_open")
        .with_seq(3);
    let wire = WireEvent::seal(&event, None, 1.0, Track::V2).expect("seals");
    let value = serde_json::to_value(&wire).expect("encodes");
    assert_eq!(value["payload"]["utilization"], 0.8);
    assert_eq!(value["payload"]["seq"], 3);
    assert_eq!(value["payload"]["reason"], "circuit_open");

    let mut v1_reader = value["payload"].clone();
    v1_reader["unknown_future_field"] = "ignored".into();
    let decoded: FeedbackEvent =
        serde_json::from_value(v1_reader).expect("unknown fields are ignored");
    assert_eq!(decoded.seq, Some(3));
}
