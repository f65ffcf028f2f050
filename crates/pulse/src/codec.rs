//! The wire codec: one entry field `data` holding `{ts, key, meta, payload}` JSON. Decoding
//! never panics; every rejection says why, for the dead-letter entry.

use std::collections::BTreeMap;

use core_contracts::pydantic_json::to_pydantic_string;
use core_contracts::{
    Contract, EventMeta, Track, WireEvent, decode_value, hash_matches, sha256_hex,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::compat::{self, CompatRule, SchemaMatch};
use crate::config::{Compat, Enforcement, PulseConfig};

/// Why an entry cannot be handed to a consumer; it goes to the dead-letter stream.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// The entry is larger than the configured maximum.
    #[error("too_large: {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Size of `data`.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// `data` is missing or not a JSON object with `meta` and `payload`.
    #[error("malformed: {0}")]
    Malformed(String),
    /// `meta.schema_id` is not the one the consumer reads.
    #[error("wrong_schema: expected {expected}, got {found}")]
    WrongSchema {
        /// The consumer's schema id.
        expected: &'static str,
        /// The entry's schema id.
        found: String,
    },
    /// `meta.track` is not a known track.
    #[error("wrong_track: {0}")]
    WrongTrack(String),
    /// The payload does not match `meta.hash` and enforcement is strict.
    #[error("hash_mismatch: payload does not match meta.hash")]
    HashMismatch,
    /// The payload breaks its contract.
    #[error("invalid_payload: {0}")]
    InvalidPayload(String),
}

/// What a reader accepts: the hash enforcement, the size limit and the compatibility mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeRules {
    /// What a hash mismatch does.
    pub enforcement: Enforcement,
    /// The largest `data` field read.
    pub max_bytes: usize,
    /// Which foreign forms are read besides ours.
    pub compat: Compat,
}

impl DecodeRules {
    /// The rules `config` sets.
    pub fn of(config: &PulseConfig) -> Self {
        Self {
            enforcement: config.enforcement,
            max_bytes: config.max_message_bytes.get(),
            compat: config.compat,
        }
    }
}

/// A decoded entry, whether its hash verified and which compatibility rule let it in.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T> {
    /// The event.
    pub event: WireEvent<T>,
    /// False when `meta.hash` was present and did not match (only under `warn`).
    pub hash_ok: bool,
    /// The compatibility rule that applied, if the entry was not in our own form.
    pub compat: Option<CompatRule>,
}

/// Encodes `event` as the `data` field of a stream entry: compact JSON written by the same
/// rules as the payload hash, so a reader can verify the payload as it reads it.
pub fn encode<T: Contract>(event: &WireEvent<T>) -> Result<String, serde_json::Error> {
    to_pydantic_string(event)
}

/// Decodes the `data` field of an entry as a `T` event, checking size, JSON, schema id,
/// track, hash and payload rules in that order.
///
/// The common case (a well-formed entry in our own form, as our encoder writes it) is decoded
/// straight into `T` and hashed as received; anything else takes the thorough path, which
/// re-serializes the payload as pydantic would before hashing, applies the compatibility
/// rules, and reports exactly what is wrong.
pub fn decode<T: Contract>(data: &str, rules: DecodeRules) -> Result<Decoded<T>, Rejection> {
    if data.len() > rules.max_bytes {
        return Err(Rejection::TooLarge {
            size: data.len(),
            max: rules.max_bytes,
        });
    }
    match decode_fast::<T>(data) {
        Some(decoded) => Ok(decoded),
        None => decode_thorough(data, rules),
    }
}

/// Decodes a stream entry's `data` field (see [`decode`]); an entry without `data`, or
/// with `data` that is not UTF-8, is malformed.
pub fn decode_entry<T: Contract>(
    entry: &crate::RawEntry,
    rules: DecodeRules,
) -> Result<Decoded<T>, Rejection> {
    match entry.data().map(std::str::from_utf8) {
        None => Err(Rejection::Malformed(
            "entry has no data field (or was trimmed while pending)".into(),
        )),
        Some(Err(e)) => Err(Rejection::Malformed(format!("data is not UTF-8: {e}"))),
        Some(Ok(data)) => decode::<T>(data, rules),
    }
}

#[derive(Deserialize)]
struct FastWire<'a> {
    ts: f64,
    #[serde(default)]
    key: Option<String>,
    meta: FastMeta,
    #[serde(borrow)]
    payload: &'a RawValue,
}

#[derive(Deserialize)]
struct FastMeta {
    schema_id: String,
    #[serde(default)]
    track: Track,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    hash: Option<String>,
}

/// The fast path: `None` whenever anything is unusual, so that the thorough path decides.
fn decode_fast<T: Contract>(data: &str) -> Option<Decoded<T>> {
    let wire: FastWire<'_> = serde_json::from_str(data).ok()?;
    if wire.meta.schema_id != T::SCHEMA_ID {
        return None;
    }
    let raw = wire.payload.get();
    if let Some(expected) = &wire.meta.hash
        && !expected.eq_ignore_ascii_case(&sha256_hex(raw.as_bytes()))
    {
        return None;
    }
    let payload: T = serde_json::from_str(raw).ok()?;
    Some(Decoded {
        event: WireEvent {
            ts: wire.ts,
            key: wire.key,
            meta: EventMeta {
                schema_id: wire.meta.schema_id,
                track: wire.meta.track,
                headers: wire.meta.headers,
                hash: wire.meta.hash,
            },
            payload,
        },
        hash_ok: true,
        compat: None,
    })
}

/// The thorough path: every check in order, the payload hashed as pydantic serializes it.
fn decode_thorough<T: Contract>(data: &str, rules: DecodeRules) -> Result<Decoded<T>, Rejection> {
    let value: Value =
        serde_json::from_str(data).map_err(|e| Rejection::Malformed(e.to_string()))?;
    let checked = check::<T>(value, rules, true)?;
    let event = decode_value::<WireEvent<T>>(checked.value)
        .map_err(|e| Rejection::InvalidPayload(e.to_string()))?;
    Ok(Decoded {
        event,
        hash_ok: checked.hash_ok,
        compat: checked.rule,
    })
}

/// An entry whose schema, track and hash have been checked, in our own form.
struct Checked {
    value: Value,
    hash_ok: bool,
    rule: Option<CompatRule>,
}

/// Checks schema id, track and hash of one envelope object; under the compatibility rules an
/// envelope carried as a payload is checked in turn (once: `may_unwrap`) and read instead.
fn check<T: Contract>(
    mut value: Value,
    rules: DecodeRules,
    may_unwrap: bool,
) -> Result<Checked, Rejection> {
    let Value::Object(obj) = &mut value else {
        return Err(Rejection::Malformed("data is not a JSON object".into()));
    };
    let meta = obj
        .get("meta")
        .and_then(Value::as_object)
        .ok_or_else(|| Rejection::Malformed("meta is missing or not an object".into()))?;
    let schema_id = meta
        .get("schema_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let matched = match compat::classify::<T>(schema_id, rules.compat) {
        SchemaMatch::Envelope if !may_unwrap => SchemaMatch::Foreign,
        other => other,
    };
    if matched == SchemaMatch::Foreign {
        return Err(Rejection::WrongSchema {
            expected: T::SCHEMA_ID,
            found: schema_id.to_owned(),
        });
    }
    match meta.get("track") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.parse::<Track>().is_ok() => {}
        Some(other) => return Err(Rejection::WrongTrack(format!("unknown track {other}"))),
    }
    let payload = obj
        .get("payload")
        .ok_or_else(|| Rejection::Malformed("payload is missing".into()))?;
    let hash_ok = hash_matches(payload, meta.get("hash").and_then(Value::as_str));
    if !hash_ok && rules.enforcement == Enforcement::Strict {
        return Err(Rejection::HashMismatch);
    }
    match matched {
        SchemaMatch::Envelope => {
            let inner = unwrap_envelope(obj)?;
            let checked = check::<T>(inner, rules, false)?;
            Ok(Checked {
                hash_ok: hash_ok && checked.hash_ok,
                rule: Some(CompatRule::UnwrappedEnvelope),
                ..checked
            })
        }
        own_or_alias => {
            obj.entry("key").or_insert(Value::Null);
            if own_or_alias == SchemaMatch::Alias
                && let Some(Value::Object(meta)) = obj.get_mut("meta")
            {
                meta.insert("schema_id".into(), Value::from(T::SCHEMA_ID));
            }
            Ok(Checked {
                value,
                hash_ok,
                rule: (own_or_alias == SchemaMatch::Alias).then_some(CompatRule::SchemaAlias),
            })
        }
    }
}

/// The envelope inside `outer`'s payload as an entry of its own: its meta and payload, the
/// outer publish time, and the outer key unless only the inner one is set. Its `id` (empty,
/// or the inner writer's) is dropped: the entry id is the bus's.
fn unwrap_envelope(outer: &mut Map<String, Value>) -> Result<Value, Rejection> {
    let Some(Value::Object(mut inner)) = outer.remove("payload") else {
        return Err(Rejection::Malformed(
            "an envelope's payload is not an object".into(),
        ));
    };
    inner.remove("id");
    if let Some(ts) = outer.remove("ts") {
        inner.insert("ts".into(), ts);
    }
    match outer.remove("key") {
        Some(key) if !key.is_null() => {
            inner.insert("key".into(), key);
        }
        _ => {}
    }
    Ok(Value::Object(inner))
}

#[cfg(test)]
mod tests {
    use core_contracts::{BackpressureLevel, FeedbackEvent, RateAdjustment};

    use super::*;

    const PY_CODEC: &str = r#"{"ts": 1795343812.6251104, "key": "bars-coord", "meta": {"schema_id": "telemetry.FeedbackEvent", "track": "v1", "headers": {}, "hash": "65e1bc4bb4ffe69895da0cdb37333aa7f0c4a58f9ef21645717d91df18003dc3"}, "payload": {"coordinator_id": "bars-coord", "queue_size": 80, "capacity": 100, "level": "soft", "source": "store", "ts": 1729234567.123}}"#;

    fn rules(enforcement: Enforcement, compat: Compat) -> DecodeRules {
        DecodeRules {
            enforcement,
            max_bytes: 1 << 20,
            compat,
        }
    }

    fn feedback(data: &str, enforcement: Enforcement) -> Result<Decoded<FeedbackEvent>, Rejection> {
        decode(data, rules(enforcement, Compat::None))
    }

    fn python_feedback(data: &str) -> Result<Decoded<FeedbackEvent>, Rejection> {
        decode(data, rules(Enforcement::Strict, Compat::Python))
    }

    #[test]
    fn python_codec_output_decodes_with_a_verified_hash() {
        let decoded = feedback(PY_CODEC, Enforcement::Strict).expect("decodes");
        assert!(decoded.hash_ok);
        assert_eq!(decoded.event.payload.level, BackpressureLevel::Soft);
    }

    #[test]
    fn our_encoding_decodes_by_the_same_rules() {
        let ev = FeedbackEvent::new("c", 1, 2, BackpressureLevel::Hard, 5.5).expect("valid");
        let data = encode(&WireEvent::seal(&ev, Some("c".into()), 6.0, Track::V2).expect("seals"))
            .expect("encodes");
        let decoded = feedback(&data, Enforcement::Strict).expect("decodes");
        assert!(decoded.hash_ok);
        assert_eq!(decoded.event.payload.coordinator_id, "c");
    }

    #[test]
    fn every_rejection_has_a_reason() {
        let tampered = PY_CODEC.replace("\"queue_size\": 80", "\"queue_size\": 81");
        let cases: Vec<(String, &str)> = vec![
            ("{not json".into(), "malformed"),
            ("[1,2]".into(), "malformed"),
            (r#"{"payload":{}}"#.into(), "malformed"),
            (
                PY_CODEC.replace("telemetry.FeedbackEvent", "telemetry.Other"),
                "wrong_schema",
            ),
            (PY_CODEC.replace("\"v1\"", "\"v3\""), "wrong_track"),
            (tampered, "hash_mismatch"),
            (PY_CODEC.replace("\"soft\"", "\"HARD\""), "hash_mismatch"),
            (
                PY_CODEC.replace("\"level\": \"soft\", ", ""),
                "hash_mismatch",
            ),
        ];
        for (data, reason) in cases {
            let err = feedback(&data, Enforcement::Strict).expect_err("rejected");
            assert!(err.to_string().starts_with(reason), "{reason}: {err}");
        }
    }

    #[test]
    fn warn_mode_processes_a_hash_mismatch_but_reports_it() {
        let tampered = PY_CODEC.replace("\"queue_size\": 80", "\"queue_size\": 81");
        let decoded = feedback(&tampered, Enforcement::Warn).expect("processed under warn");
        assert!(!decoded.hash_ok);
        assert_eq!(decoded.event.payload.queue_size, 81);
    }

    #[test]
    fn an_invalid_payload_is_rejected_even_without_hash() {
        let data = r#"{"ts":1.0,"meta":{"schema_id":"telemetry.FeedbackEvent"},"payload":{"coordinator_id":"c","queue_size":-1,"capacity":2,"level":"ok","ts":1.0}}"#;
        let err = feedback(data, Enforcement::Strict).expect_err("rejected");
        assert!(
            err.to_string().starts_with("invalid_payload")
                && err.to_string().contains("queue_size"),
            "{err}"
        );
    }

    #[test]
    fn the_fast_and_thorough_paths_agree() {
        let strict = rules(Enforcement::Strict, Compat::None);
        let ev = FeedbackEvent::new("caf\u{e9}", 3, 4, BackpressureLevel::Soft, 1e16)
            .expect("valid")
            .with_seq(2);
        for track in Track::ALL {
            let wire = WireEvent::seal(&ev, None, 7.25, track).expect("seals");
            let data = encode(&wire).expect("encodes");
            let fast = decode_fast::<FeedbackEvent>(&data).expect("our own output is fast");
            let thorough = decode_thorough::<FeedbackEvent>(&data, strict).expect("decodes");
            assert!(thorough.hash_ok && fast.hash_ok);
            assert_eq!(thorough.event, wire);
            // Non-ASCII text and exponent floats are written as they are hashed.
            assert_eq!(fast, thorough);
        }
        let plain = FeedbackEvent::new("c", 3, 4, BackpressureLevel::Soft, 12.5).expect("valid");
        let wire = WireEvent::seal(&plain, Some("c".into()), 7.25, Track::V1).expect("seals");
        let data = encode(&wire).expect("encodes");
        let fast = decode_fast::<FeedbackEvent>(&data).expect("fast path takes our own output");
        assert_eq!(fast.event, wire);
        assert_eq!(
            decode_thorough::<FeedbackEvent>(&data, strict)
                .expect("decodes")
                .event,
            wire
        );
    }

    /// What market-data-store 0.6.73's `FeedbackPublisherService.publish_feedback` wrote
    /// through market-data-core 1.4.61's `RedisStreamsBus` (one entry's `data`, verbatim).
    const PY_STORE_WRAPPED: &str = r#"{"ts": 1796255183.9639225, "key": "st\u00f6re-\u00fc", "meta": {"schema_id": "events.envelope.EventEnvelope", "track": "v1", "headers": {}, "hash": "d8d17c35b4d1bba65f16796ef689dd251f444e8817010c6d2b606a0ebd2fc0eb"}, "payload": {"id": "", "key": "st\u00f6re-\u00fc", "ts": 1796255183.9632528, "meta": {"schema_id": "telemetry.FeedbackEvent", "track": "v1", "headers": {"reason": "queue_high_watermark", "utilization": "0.800000"}, "hash": null}, "payload": {"coordinator_id": "st\u00f6re-\u00fc", "queue_size": 80, "capacity": 100, "level": "hard", "source": "store", "ts": 1796255183.963178}}}"#;

    /// What market-data-core 1.4.61's `RedisStreamsBus.publish` wrote for its own
    /// `FeedbackEvent` with `ts=0.00005` (one entry's `data`, verbatim).
    const PY_CORE_DERIVED_ID: &str = r#"{"ts": 1796255184.2196321, "key": null, "meta": {"schema_id": "telemetry.backpressure.FeedbackEvent", "track": "v1", "headers": {}, "hash": "607b791b100b9b7b52985b4dacb859d2e5566d9f64730a32df85fdf5f66be80e"}, "payload": {"coordinator_id": "c", "queue_size": 1, "capacity": 2, "level": "soft", "source": "store", "ts": 5e-05}}"#;

    #[test]
    fn python_forms_are_rejected_without_compat() {
        for data in [PY_STORE_WRAPPED, PY_CORE_DERIVED_ID] {
            let err = feedback(data, Enforcement::Warn).expect_err("not our form");
            assert!(matches!(err, Rejection::WrongSchema { .. }), "{err}");
        }
    }

    #[test]
    fn the_python_core_derived_schema_id_is_an_alias_and_its_hash_verifies() {
        let decoded = python_feedback(PY_CORE_DERIVED_ID).expect("read under compat");
        assert!(
            decoded.hash_ok,
            "pydantic's 0.00005 is hashed as pydantic wrote it"
        );
        assert_eq!(decoded.compat, Some(CompatRule::SchemaAlias));
        assert_eq!(decoded.event.meta.schema_id, "telemetry.FeedbackEvent");
        assert_eq!(decoded.event.payload.ts, 0.00005);
    }

    #[test]
    fn the_python_stores_wrapped_envelope_is_read_from_inside_with_both_hashes_checked() {
        let decoded = python_feedback(PY_STORE_WRAPPED).expect("read under compat");
        assert!(
            decoded.hash_ok,
            "the outer hash covers the inner envelope, raw UTF-8"
        );
        assert_eq!(decoded.compat, Some(CompatRule::UnwrappedEnvelope));
        let event = &decoded.event;
        assert_eq!(event.payload.coordinator_id, "störe-ü");
        assert_eq!(event.payload.level, BackpressureLevel::Hard);
        assert_eq!(event.key.as_deref(), Some("störe-ü"));
        assert_eq!(event.ts, 1_796_255_183.963_922_5, "the outer publish time");
        assert_eq!(event.meta.schema_id, "telemetry.FeedbackEvent");
        assert_eq!(event.meta.headers["utilization"], "0.800000");
        assert_eq!(event.meta.headers["reason"], "queue_high_watermark");

        let tampered = PY_STORE_WRAPPED.replace("\"queue_size\": 80", "\"queue_size\": 81");
        let err = python_feedback(&tampered).expect_err("outer hash no longer matches");
        assert_eq!(err, Rejection::HashMismatch);
        let warned = decode::<FeedbackEvent>(&tampered, rules(Enforcement::Warn, Compat::Python))
            .expect("processed under warn");
        assert!(!warned.hash_ok);
    }

    #[test]
    fn a_wrapped_envelope_must_hold_a_readable_envelope_once() {
        let inner_foreign = PY_STORE_WRAPPED.replace(
            "\"schema_id\": \"telemetry.FeedbackEvent\"",
            "\"schema_id\": \"x.Y\"",
        );
        let twice = PY_STORE_WRAPPED.replace(
            "\"schema_id\": \"telemetry.FeedbackEvent\"",
            "\"schema_id\": \"events.envelope.EventEnvelope\"",
        );
        let not_object = r#"{"ts": 1.0, "meta": {"schema_id": "events.envelope.EventEnvelope"}, "payload": [1]}"#;
        let warn = rules(Enforcement::Warn, Compat::Python);
        for (data, reason) in [
            (inner_foreign.as_str(), "wrong_schema"),
            (twice.as_str(), "wrong_schema"),
            (not_object, "malformed"),
        ] {
            let err = decode::<FeedbackEvent>(data, warn).expect_err("rejected");
            assert!(err.to_string().starts_with(reason), "{reason}: {err}");
        }
    }

    #[test]
    fn oversized_entries_are_rejected_before_parsing() {
        let limited = DecodeRules {
            max_bytes: 10,
            ..rules(Enforcement::Warn, Compat::None)
        };
        let err = decode::<RateAdjustment>(&"x".repeat(100), limited).expect_err("too large");
        assert_eq!(err, Rejection::TooLarge { size: 100, max: 10 });
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics() {
        const ALPHABET: &[u8] = b"{}[]\":,0123456789.-eE truefalsnul\\meta payload schema_id";
        let mut seed = 0x9e37_79b9_u32;
        for len in 0..400 {
            let text: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    char::from(ALPHABET[seed as usize % ALPHABET.len()])
                })
                .collect();
            let _ = feedback(&text, Enforcement::Strict);
            let _ = python_feedback(&text);
            let _ = python_feedback(&format!(
                r#"{{"ts":1,"meta":{{"schema_id":"events.envelope.EventEnvelope"}},"payload":{text}}}"#
            ));
        }
    }
}
