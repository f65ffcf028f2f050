//! Invalid documents are rejected with an error that names the field and the rule.

use core_contracts::{Bar, EventEnvelope, FeedbackEvent, RateAdjustment, decode};

const VALID: &str = r#"{"coordinator_id":"bars-coord","queue_size":80,"capacity":100,"level":"soft","source":"store","ts":1729234567.123}"#;

fn with(field: &str, value: &str) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(VALID).expect("json");
    doc[field] = serde_json::from_str(value).expect("json");
    doc.to_string()
}

fn without(field: &str) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(VALID).expect("json");
    doc.as_object_mut().expect("object").remove(field);
    doc.to_string()
}

fn rejection<T: serde::de::DeserializeOwned + std::fmt::Debug>(doc: &str) -> String {
    decode::<T>(doc)
        .expect_err("document is rejected")
        .to_string()
}

#[test]
fn negative_queue_size_is_rejected() {
    let err = rejection::<FeedbackEvent>(&with("queue_size", "-1"));
    assert!(err.contains("queue_size") && err.contains(">= 0"), "{err}");
}

#[test]
fn every_u64_count_is_read_and_a_larger_one_is_rejected() {
    let max = u64::MAX.to_string();
    let event = decode::<FeedbackEvent>(&with("queue_size", &max)).expect("u64::MAX is read");
    assert_eq!((event.queue_size, event.capacity), (u64::MAX, 100));
    let event = decode::<FeedbackEvent>(&with("capacity", &max)).expect("u64::MAX is read");
    assert_eq!(event.capacity, u64::MAX);
    let too_large = VALID.replace("\"queue_size\":80", "\"queue_size\":18446744073709551616");
    let err = rejection::<FeedbackEvent>(&too_large);
    assert!(
        err.contains("queue_size") && err.contains("< 2^64"),
        "{err}"
    );
}

#[test]
fn zero_capacity_is_rejected() {
    let err = rejection::<FeedbackEvent>(&with("capacity", "0"));
    assert!(err.contains("capacity") && err.contains("> 0"), "{err}");
}

#[test]
fn uppercase_level_is_rejected() {
    let err = rejection::<FeedbackEvent>(&with("level", r#""HARD""#));
    assert!(
        err.contains("level") && err.contains("HARD") && err.contains("`hard`"),
        "{err}"
    );
}

#[test]
fn missing_ts_is_rejected() {
    let err = rejection::<FeedbackEvent>(&without("ts"));
    assert!(err.contains("missing field `ts`"), "{err}");
}

#[test]
fn empty_coordinator_id_is_rejected() {
    let err = rejection::<FeedbackEvent>(&with("coordinator_id", r#""""#));
    assert!(
        err.contains("coordinator_id") && err.contains("empty"),
        "{err}"
    );
}

#[test]
fn scale_above_one_is_rejected() {
    let err =
        rejection::<RateAdjustment>(r#"{"provider":"ibkr","scale":1.5,"reason":"ok","ts":1.0}"#);
    assert!(err.contains("scale") && err.contains("[0, 1]"), "{err}");
}

#[test]
fn unknown_track_is_rejected_at_its_path() {
    let doc = r#"{"id":"1","key":null,"ts":1.0,"meta":{"schema_id":"telemetry.FeedbackEvent","track":"v3"},
        "payload":{"coordinator_id":"c","queue_size":1,"capacity":2,"level":"ok","ts":1.0}}"#;
    let err = rejection::<EventEnvelope<FeedbackEvent>>(doc);
    assert!(err.contains("meta.track") && err.contains("v3"), "{err}");
}

#[test]
fn an_invalid_payload_inside_an_envelope_is_located() {
    let doc = r#"{"id":"1","key":null,"ts":1.0,"meta":{"schema_id":"telemetry.FeedbackEvent"},
        "payload":{"coordinator_id":"c","queue_size":1,"capacity":2,"level":"HARD","ts":1.0}}"#;
    let err = rejection::<EventEnvelope<FeedbackEvent>>(doc);
    assert!(err.contains("payload.level"), "{err}");
}

#[test]
fn construction_enforces_the_same_rules() {
    use core_contracts::BackpressureLevel::Ok;
    assert!(FeedbackEvent::new("c", 1, 0, Ok, 1.0).is_err());
    assert!(FeedbackEvent::new(" ", 1, 1, Ok, 1.0).is_err());
    assert!(FeedbackEvent::new("c", 1, 1, Ok, f64::NAN).is_err());
    assert!(RateAdjustment::new("p", -0.1, Ok, 1.0).is_err());
    assert!(RateAdjustment::new("", 0.5, Ok, 1.0).is_err());
    assert!(RateAdjustment::new("p", 0.0, Ok, 1.0).is_ok());
}

#[test]
fn a_bar_with_low_above_high_is_rejected() {
    let doc = r#"{"provider":"ibkr","symbol":"AAPL","resolution":"1m","ts":"2024-05-01T13:30:00Z",
        "open":"10","high":"9","low":"11","close":"10","volume":"1"}"#;
    let err = rejection::<Bar>(doc);
    assert!(err.contains("low") && err.contains("<= high"), "{err}");
}

#[test]
fn a_bar_with_a_bad_resolution_or_negative_volume_is_rejected() {
    let base = r#"{"provider":"ibkr","symbol":"AAPL","resolution":"RES","ts":"2024-05-01T13:30:00Z",
        "open":"10","high":"11","low":"9","close":"10","volume":"VOL"}"#;
    let err = rejection::<Bar>(&base.replace("RES", "minute").replace("VOL", "1"));
    assert!(err.contains("resolution"), "{err}");
    let err = rejection::<Bar>(&base.replace("RES", "1m").replace("VOL", "-5"));
    assert!(err.contains("volume") && err.contains(">= 0"), "{err}");
}

#[test]
fn bar_decimals_are_exact_and_numbers_are_accepted() {
    let doc = r#"{"provider":"ibkr","symbol":"AAPL","resolution":"1m","ts":"2024-05-01T13:30:00Z",
        "open":"0.10000000000000000001","high":1.5,"low":0.1,"close":"0.3","volume":100}"#;
    let bar: Bar = decode(doc).expect("decodes");
    assert_eq!(bar.open.to_string(), "0.10000000000000000001");
    let encoded = serde_json::to_value(&bar).expect("encodes");
    assert_eq!(encoded["open"], "0.10000000000000000001");
    assert_eq!(encoded["ts"], "2024-05-01T13:30:00Z");
}
