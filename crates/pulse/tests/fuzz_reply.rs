//! Properties of the Redis reply parsers on arbitrary replies: whatever Redis (or something
//! pretending to be it) answers, parsing returns entries, positions or nothing, and never
//! panics; well-formed replies are read exactly, field bytes untouched.

use proptest::collection::vec;
use proptest::prelude::*;
use pulse::RawEntry;
use pulse::backend::redis_streams::reply::{
    as_int, as_string, parse_entries, parse_groups, parse_read_reply, pending_count,
};
use redis::{Value, VerbatimFormat};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(2000)
}

/// Any scalar reply, biased towards the shapes stream replies are made of.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        Just(Value::Okay),
        any::<i64>().prop_map(Value::Int),
        vec(any::<u8>(), 0..12).prop_map(Value::BulkString),
        "[0-9]{1,3}-[0-9]{1,2}".prop_map(|id| Value::BulkString(id.into_bytes())),
        prop_oneof![
            Just("name"),
            Just("pending"),
            Just("last-delivered-id"),
            Just("lag"),
            Just("data"),
        ]
        .prop_map(|s| Value::BulkString(s.as_bytes().to_vec())),
        ".{0,8}".prop_map(Value::SimpleString),
        any::<f64>().prop_map(Value::Double),
        any::<bool>().prop_map(Value::Boolean),
        ".{0,8}".prop_map(|text| Value::VerbatimString {
            format: VerbatimFormat::Text,
            text,
        }),
    ]
}

/// Arbitrary nested replies: arrays, maps, sets, attributes and pushes of anything.
fn reply() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec(inner.clone(), 0..6).prop_map(Value::Set),
            vec((inner.clone(), inner.clone()), 0..4).prop_map(Value::Map),
            (inner.clone(), vec((inner.clone(), inner.clone()), 0..3)).prop_map(
                |(data, attributes)| Value::Attribute {
                    data: Box::new(data),
                    attributes,
                }
            ),
            vec(inner, 0..4).prop_map(|data| Value::Push {
                kind: redis::PushKind::Message,
                data,
            }),
        ]
    })
}

fn bulk(bytes: &[u8]) -> Value {
    Value::BulkString(bytes.to_vec())
}

/// Entries as Redis would send them: ids with fields of arbitrary bytes.
fn entries() -> impl Strategy<Value = Vec<RawEntry>> {
    vec(
        (
            (any::<u32>(), any::<u16>()).prop_map(|(ms, seq)| format!("{ms}-{seq}")),
            vec((vec(any::<u8>(), 0..8), vec(any::<u8>(), 0..16)), 0..4),
        )
            .prop_map(|(id, fields)| RawEntry { id, fields }),
        0..5,
    )
}

fn entries_reply(entries: &[RawEntry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|e| {
                let fields = e
                    .fields
                    .iter()
                    .flat_map(|(name, value)| [bulk(name), bulk(value)])
                    .collect();
                Value::Array(vec![bulk(e.id.as_bytes()), Value::Array(fields)])
            })
            .collect(),
    )
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_reply_makes_a_parser_panic(value in reply()) {
        let _ = parse_entries(&value);
        let _ = parse_read_reply(&value);
        let _ = parse_groups(&value);
        let _ = pending_count(&value);
        let _ = as_string(&value);
        let _ = as_int(&value);
    }

    #[test]
    fn parsers_read_every_part_of_a_stream_reply_shape(
        key in reply(),
        items in vec(vec(reply(), 0..4), 0..4),
    ) {
        // The outer shapes are right and the insides arbitrary: the parsers go deep.
        let entries = Value::Array(items.into_iter().map(Value::Array).collect());
        let read = Value::Array(vec![Value::Array(vec![key.clone(), entries.clone()])]);
        let _ = parse_read_reply(&read);
        let _ = parse_read_reply(&Value::Map(vec![(key, entries.clone())]));
        let _ = parse_groups(&entries);
        let _ = pending_count(&entries);
    }

    #[test]
    fn well_formed_entries_are_read_exactly(expected in entries()) {
        let reply = entries_reply(&expected);
        prop_assert_eq!(parse_entries(&reply), expected.clone());
        let read = Value::Array(vec![Value::Array(vec![bulk(b"k"), reply.clone()])]);
        prop_assert_eq!(parse_read_reply(&read), expected.clone());
        let resp3 = Value::Map(vec![(bulk(b"k"), reply)]);
        prop_assert_eq!(parse_read_reply(&resp3), expected);
    }

    #[test]
    fn a_pending_row_gives_its_delivery_count(deliveries in any::<i64>()) {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk(b"1-0"),
            bulk(b"c"),
            Value::Int(0),
            Value::Int(deliveries),
        ])]);
        prop_assert_eq!(pending_count(&reply), u32::try_from(deliveries).ok());
    }
}
