//! The wire codec: one entry field `data` holding `{ts, key, meta, payload}` JSON. Decoding
//! never panics; every rejection says why, for the dead-letter entry.

use std::collections::BTreeMap;

use core_contracts::{
    Contract, EventMeta, Track, WireEvent, decode_value, hash_matches, sha256_hex,
};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::config::Enforcement;

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

/// A decoded entry and whether its hash verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T> {
    /// The event.
    pub event: WireEvent<T>,
    /// False when `meta.hash` was present and did not match (only under `warn`).
    pub hash_ok: bool,
}

/// Encodes `event` as the `data` field of a stream entry.
pub fn encode<T: Contract>(event: &WireEvent<T>) -> Result<String, serde_json::Error> {
    serde_json::to_string(event)
}

/// Decodes the `data` field of an entry as a `T` event, checking size, JSON, schema id,
/// track, hash and payload rules in that order.
///
/// The common case (a well-formed entry whose payload was written compactly, as our encoder
/// writes it) is decoded straight into `T` and hashed as received; anything else takes the
/// thorough path, which re-serializes the payload as Python would before hashing and reports
/// exactly what is wrong.
pub fn decode<T: Contract>(
    data: &str,
    enforcement: Enforcement,
    max_bytes: usize,
) -> Result<Decoded<T>, Rejection> {
    if data.len() > max_bytes {
        return Err(Rejection::TooLarge {
            size: data.len(),
            max: max_bytes,
        });
    }
    match decode_fast::<T>(data) {
        Some(decoded) => Ok(decoded),
        None => decode_thorough(data, enforcement),
    }
}

/// Decodes a stream entry's `data` field (see [`decode`]); an entry without `data`, or
/// with `data` that is not UTF-8, is malformed.
pub fn decode_entry<T: Contract>(
    entry: &crate::RawEntry,
    enforcement: Enforcement,
    max_bytes: usize,
) -> Result<Decoded<T>, Rejection> {
    match entry.data().map(std::str::from_utf8) {
        None => Err(Rejection::Malformed(
            "entry has no data field (or was trimmed while pending)".into(),
        )),
        Some(Err(e)) => Err(Rejection::Malformed(format!("data is not UTF-8: {e}"))),
        Some(Ok(data)) => decode::<T>(data, enforcement, max_bytes),
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
    })
}

/// The thorough path: every check in order, the payload hashed as Python serializes it.
fn decode_thorough<T: Contract>(
    data: &str,
    enforcement: Enforcement,
) -> Result<Decoded<T>, Rejection> {
    let mut value: Value =
        serde_json::from_str(data).map_err(|e| Rejection::Malformed(e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| Rejection::Malformed("data is not a JSON object".into()))?;
    let meta = obj
        .get("meta")
        .and_then(Value::as_object)
        .ok_or_else(|| Rejection::Malformed("meta is missing or not an object".into()))?;
    let schema_id = meta
        .get("schema_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if schema_id != T::SCHEMA_ID {
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
    if !hash_ok && enforcement == Enforcement::Strict {
        return Err(Rejection::HashMismatch);
    }
    if let Some(obj) = value.as_object_mut() {
        obj.entry("key").or_insert(Value::Null);
    }
    let event = decode_value::<WireEvent<T>>(value)
        .map_err(|e| Rejection::InvalidPayload(e.to_string()))?;
    Ok(Decoded { event, hash_ok })
}

#[cfg(test)]
mod tests {
    use core_contracts::{BackpressureLevel, FeedbackEvent, RateAdjustment};

    use super::*;

    const PY_CODEC: &str = r#"{"ts": 1795343812.6251104, "key": "bars-coord", "meta": {"schema_id": "telemetry.FeedbackEvent", "track": "v1", "headers": {}, "hash": "65e1bc4bb4ffe69895da0cdb37333aa7f0c4a58f9ef21645717d91df18003dc3"}, "payload": {"coordinator_id": "bars-coord", "queue_size": 80, "capacity": 100, "level": "soft", "source": "store", "ts": 1729234567.123}}"#;

    fn feedback(data: &str, enforcement: Enforcement) -> Result<Decoded<FeedbackEvent>, Rejection> {
        decode(data, enforcement, 1 << 20)
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
        let ev = FeedbackEvent::new("caf\u{e9}", 3, 4, BackpressureLevel::Soft, 1e16)
            .expect("valid")
            .with_seq(2);
        for track in Track::ALL {
            let wire = WireEvent::seal(&ev, None, 7.25, track).expect("seals");
            let data = encode(&wire).expect("encodes");
            let fast = decode_fast::<FeedbackEvent>(&data);
            let thorough =
                decode_thorough::<FeedbackEvent>(&data, Enforcement::Strict).expect("decodes");
            assert!(thorough.hash_ok);
            assert_eq!(thorough.event, wire);
            // Non-ASCII text and exponent floats hash differently as written: the fast path
            // steps aside and the thorough path verifies.
            assert!(fast.is_none());
        }
        let plain = FeedbackEvent::new("c", 3, 4, BackpressureLevel::Soft, 12.5).expect("valid");
        let wire = WireEvent::seal(&plain, Some("c".into()), 7.25, Track::V1).expect("seals");
        let data = encode(&wire).expect("encodes");
        let fast = decode_fast::<FeedbackEvent>(&data).expect("fast path takes our own output");
        assert_eq!(fast.event, wire);
        assert_eq!(
            decode_thorough::<FeedbackEvent>(&data, Enforcement::Strict)
                .expect("decodes")
                .event,
            wire
        );
    }

    #[test]
    fn oversized_entries_are_rejected_before_parsing() {
        let err = decode::<RateAdjustment>(&"x".repeat(100), Enforcement::Warn, 10)
            .expect_err("too large");
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
        }
    }
}
