//! Properties of the codec on arbitrary input: decoding an entry, whatever its bytes or its
//! JSON, gives an event or a rejection with a reason and never panics; dead-letter fields
//! read back as written; what we encode decodes to the same event.

use core_contracts::{BackpressureLevel, FeedbackEvent, RateAdjustment, Track, WireEvent};
use proptest::collection::vec;
use proptest::prelude::*;
use pulse::backend::entry::{dead_letter_fields, parse_dead_letter};
use pulse::codec::{self, DecodeRules};
use pulse::{Compat, Enforcement, RawEntry};
use serde_json::{Map, Value, json};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(2000)
}

fn rules() -> impl Strategy<Value = DecodeRules> {
    (
        prop_oneof![Just(Enforcement::Warn), Just(Enforcement::Strict)],
        prop_oneof![Just(Compat::None), Just(Compat::Python)],
        prop_oneof![Just(64usize), Just(1 << 20)],
    )
        .prop_map(|(enforcement, compat, max_bytes)| DecodeRules {
            enforcement,
            max_bytes,
            compat,
        })
}

/// Names the codec looks for, so that arbitrary objects often hit its paths.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ts".to_owned()),
        Just("key".to_owned()),
        Just("meta".to_owned()),
        Just("payload".to_owned()),
        Just("schema_id".to_owned()),
        Just("track".to_owned()),
        Just("hash".to_owned()),
        Just("headers".to_owned()),
        Just("id".to_owned()),
        Just("coordinator_id".to_owned()),
        Just("level".to_owned()),
        ".{0,6}",
    ]
}

/// Arbitrary JSON, with the codec's names and schema ids among its keys and strings.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop_oneof![
            Just("telemetry.FeedbackEvent".to_owned()),
            Just("telemetry.RateAdjustment".to_owned()),
            Just("telemetry.backpressure.FeedbackEvent".to_owned()),
            Just("events.envelope.EventEnvelope".to_owned()),
            Just("v1".to_owned()),
            Just("v2".to_owned()),
            Just("soft".to_owned()),
            ".{0,10}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            vec((name(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An envelope whose parts are each either well-formed or arbitrary.
fn envelope() -> impl Strategy<Value = Value> {
    let meta = (
        prop_oneof![
            Just(json!("telemetry.FeedbackEvent")),
            Just(json!("events.envelope.EventEnvelope")),
            json_value(),
        ],
        prop_oneof![Just(json!("v1")), Just(json!("v2")), json_value()],
        prop_oneof![Just(Value::Null), json_value()],
    )
        .prop_map(|(schema_id, track, hash)| {
            json!({"schema_id": schema_id, "track": track, "headers": {}, "hash": hash})
        });
    let payload = prop_oneof![
        Just(json!({
            "coordinator_id": "c", "queue_size": 1, "capacity": 2, "level": "soft",
            "source": "store", "ts": 1.5
        })),
        json_value(),
    ];
    (
        prop_oneof![Just(json!(1.0)), json_value()],
        prop_oneof![Just(Value::Null), json_value()],
        meta,
        payload,
    )
        .prop_map(|(ts, key, meta, payload)| {
            json!({"ts": ts, "key": key, "meta": meta, "payload": payload})
        })
}

/// Decodes `data` as the contracts the bus carries; each gives an event or a rejection.
fn decode_all(data: &str, rules: DecodeRules) {
    for rejection in [
        codec::decode::<FeedbackEvent>(data, rules).err(),
        codec::decode::<RateAdjustment>(data, rules).err(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!rejection.to_string().is_empty());
    }
}

fn fields() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    let field_name = prop_oneof![
        Just(b"data".to_vec()),
        Just(b"reason".to_vec()),
        Just(b"original_id".to_vec()),
        Just(b"deliveries".to_vec()),
        Just(b"original.data".to_vec()),
        Just(b"original.original.reason".to_vec()),
        vec(any::<u8>(), 0..8),
    ];
    vec((field_name, vec(any::<u8>(), 0..24)), 0..6)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_text_makes_decode_panic(data in ".{0,200}", rules in rules()) {
        decode_all(&data, rules);
    }

    #[test]
    fn no_json_makes_decode_panic(value in json_value(), rules in rules()) {
        decode_all(&value.to_string(), rules);
    }

    #[test]
    fn no_envelope_makes_decode_panic(value in envelope(), rules in rules()) {
        decode_all(&value.to_string(), rules);
        // Carried as the payload of an envelope, for the unwrapping of the compat rules.
        let outer = json!({
            "ts": 2.0, "key": "k",
            "meta": {"schema_id": "events.envelope.EventEnvelope", "track": "v1"},
            "payload": value,
        });
        decode_all(&outer.to_string(), rules);
    }

    #[test]
    fn no_truncation_or_flipped_byte_of_a_good_entry_makes_decode_panic(
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        rules in rules(),
    ) {
        let event = FeedbackEvent::new("c", 80, 100, BackpressureLevel::Soft, 1.25)
            .expect("valid");
        let data = codec::encode(&WireEvent::seal(&event, Some("c".into()), 2.5, Track::V2)
            .expect("seals"))
            .expect("encodes");
        let mut bytes = data.into_bytes();
        let at = flip.index(bytes.len());
        bytes[at] = byte;
        bytes.truncate(cut.index(bytes.len() + 1));
        let entry = RawEntry::with_data("1-0", bytes);
        for rejection in [
            codec::decode_entry::<FeedbackEvent>(&entry, rules).err(),
            codec::decode_entry::<RateAdjustment>(&entry, rules).err(),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(!rejection.to_string().is_empty());
        }
    }

    #[test]
    fn no_field_map_makes_decode_entry_panic(fields in fields(), rules in rules()) {
        let entry = RawEntry { id: "1-0".into(), fields };
        let _ = codec::decode_entry::<FeedbackEvent>(&entry, rules);
    }

    #[test]
    fn dead_letter_fields_read_back_as_written(
        original in fields(),
        id in ".{0,12}",
        reason in ".{0,24}",
        deliveries in any::<u32>(),
    ) {
        let written = dead_letter_fields(&id, &reason, deliveries, &original);
        let read = parse_dead_letter("9-0".into(), written);
        prop_assert_eq!(read.original_id, id);
        prop_assert_eq!(read.reason, reason);
        prop_assert_eq!(read.deliveries, deliveries);
        prop_assert_eq!(read.fields, original);
    }

    #[test]
    fn no_field_map_makes_reading_a_dead_letter_panic(fields in fields()) {
        let _ = parse_dead_letter("1-0".into(), fields);
    }

    #[test]
    fn what_we_encode_decodes_to_the_same_event(
        queue in 0u64..1_000_000,
        capacity in 1u64..1_000_000,
        ts in 0.0f64..4.0e9,
        published in 0.0f64..4.0e9,
        v2 in any::<bool>(),
    ) {
        let track = if v2 { Track::V2 } else { Track::V1 };
        let event = FeedbackEvent::new("c", queue, capacity, BackpressureLevel::Hard, ts)
            .expect("valid");
        let wire = WireEvent::seal(&event, Some("c".into()), published, track).expect("seals");
        let data = codec::encode(&wire).expect("encodes");
        let strict = DecodeRules {
            enforcement: Enforcement::Strict,
            max_bytes: 1 << 20,
            compat: Compat::None,
        };
        let decoded = codec::decode::<FeedbackEvent>(&data, strict).expect("decodes");
        prop_assert!(decoded.hash_ok);
        prop_assert_eq!(decoded.event, wire);
    }
}
