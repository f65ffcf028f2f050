//! Replies of the Redis Streams commands, read as bytes: entry fields are never decoded;
//! ids and counts, text by construction, are. Pure functions of a [`Value`] that never fail:
//! a reply of another shape than expected (or a part of one) reads as nothing.

use redis::Value;

use crate::backend::entry::RawEntry;
use crate::backend::retention::EntryId;

/// One row of `XINFO GROUPS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The group's name, as bytes.
    pub name: Vec<u8>,
    /// Entries delivered and not yet acknowledged.
    pub pending: u64,
    /// The last id delivered to the group.
    pub last_delivered: EntryId,
    /// Entries not yet delivered; `None` when Redis cannot tell (reported as nil).
    pub lag: Option<u64>,
}

/// A bulk or simple string (or integer) as raw bytes.
fn as_bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => Some(bytes.clone()),
        Value::SimpleString(s) => Some(s.as_bytes().to_vec()),
        Value::VerbatimString { text, .. } => Some(text.as_bytes().to_vec()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

/// A string reply that is text by construction (ids, counts): never a field value.
pub fn as_string(value: &Value) -> Option<String> {
    String::from_utf8(as_bytes(value)?).ok()
}

/// An integer reply, or a string one holding an integer.
pub fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        other => as_string(other)?.parse().ok(),
    }
}

/// `XPENDING key group id id 1` -> the delivery count of that id, if pending.
pub fn pending_count(reply: &Value) -> Option<u32> {
    let Value::Array(rows) = reply else {
        return None;
    };
    let Value::Array(row) = rows.first()? else {
        return None;
    };
    as_int(row.get(3)?).and_then(|n| u32::try_from(n).ok())
}

/// A flat `[name, value, ...]` array or a map, as `(name, value)` pairs.
fn pairs(value: &Value) -> Vec<(Vec<u8>, &Value)> {
    match value {
        Value::Array(kv) => kv
            .chunks(2)
            .filter_map(|c| Some((as_bytes(c.first()?)?, c.get(1)?)))
            .collect(),
        Value::Map(kv) => kv
            .iter()
            .filter_map(|(k, v)| Some((as_bytes(k)?, v)))
            .collect(),
        _ => Vec::new(),
    }
}

/// `XINFO GROUPS` -> one [`GroupInfo`] per group.
pub fn parse_groups(reply: &Value) -> Vec<GroupInfo> {
    let Value::Array(groups) = reply else {
        return Vec::new();
    };
    groups
        .iter()
        .filter_map(|group| {
            let fields = pairs(group);
            let get = |name: &str| {
                fields
                    .iter()
                    .find(|(f, _)| f == name.as_bytes())
                    .map(|(_, v)| *v)
            };
            let count = |name| {
                get(name)
                    .and_then(as_int)
                    .and_then(|n| u64::try_from(n).ok())
            };
            Some(GroupInfo {
                name: as_bytes(get("name")?)?,
                pending: count("pending").unwrap_or(0),
                last_delivered: get("last-delivered-id")
                    .and_then(as_string)
                    .and_then(|id| EntryId::parse(&id))?,
                lag: count("lag"),
            })
        })
        .collect()
}

/// `[[id, [field, value, ...] | nil], ...]` -> entries with their fields as raw bytes.
pub fn parse_entries(value: &Value) -> Vec<RawEntry> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else {
                return None;
            };
            let id = as_string(pair.first()?)?;
            let fields = pair
                .get(1)
                .map(|kv| {
                    pairs(kv)
                        .into_iter()
                        .filter_map(|(name, value)| Some((name, as_bytes(value)?)))
                        .collect()
                })
                .unwrap_or_default();
            Some(RawEntry { id, fields })
        })
        .collect()
}

/// `XREADGROUP` reply: `[[key, entries]]` (or a map), or nil on timeout.
pub fn parse_read_reply(reply: &Value) -> Vec<RawEntry> {
    match reply {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|s| match s {
                Value::Array(pair) => pair.get(1).map(parse_entries),
                _ => None,
            })
            .flatten()
            .collect(),
        Value::Map(streams) => streams
            .iter()
            .flat_map(|(_, entries)| parse_entries(entries))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn parses_a_read_reply_with_a_trimmed_entry() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("k"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk("1-0"),
                    Value::Array(vec![bulk("data"), bulk("{}")]),
                ]),
                Value::Array(vec![bulk("2-0"), Value::Nil]),
            ]),
        ])]);
        assert_eq!(
            parse_read_reply(&reply),
            vec![
                RawEntry::with_data("1-0", "{}"),
                RawEntry {
                    id: "2-0".into(),
                    fields: Vec::new(),
                },
            ]
        );
        assert!(parse_read_reply(&Value::Nil).is_empty());
    }

    #[test]
    fn field_values_are_kept_as_raw_bytes() {
        let entry = Value::Array(vec![Value::Array(vec![
            bulk("1-0"),
            Value::Array(vec![
                bulk("payload"),
                Value::BulkString(vec![0xff, 0x00, 0xfe]),
            ]),
        ])]);
        assert_eq!(
            parse_entries(&entry)[0].fields,
            vec![(b"payload".to_vec(), vec![0xff, 0x00, 0xfe])]
        );
    }

    #[test]
    fn parses_group_positions_with_and_without_lag() {
        let group = |name: &str, lag: Value| {
            Value::Array(vec![
                bulk("name"),
                bulk(name),
                bulk("consumers"),
                Value::Int(1),
                bulk("pending"),
                Value::Int(2),
                bulk("last-delivered-id"),
                bulk("5-1"),
                bulk("entries-read"),
                Value::Int(5),
                bulk("lag"),
                lag,
            ])
        };
        let reply = Value::Array(vec![group("a", Value::Int(4)), group("b", Value::Nil)]);
        let last = EntryId { ms: 5, seq: 1 };
        assert_eq!(
            parse_groups(&reply),
            vec![
                GroupInfo {
                    name: b"a".to_vec(),
                    pending: 2,
                    last_delivered: last,
                    lag: Some(4),
                },
                GroupInfo {
                    name: b"b".to_vec(),
                    pending: 2,
                    last_delivered: last,
                    lag: None,
                },
            ]
        );
    }

    #[test]
    fn parses_the_delivery_count_of_a_pending_entry() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("1-0"),
            bulk("c1"),
            Value::Int(10),
            Value::Int(3),
        ])]);
        assert_eq!(pending_count(&reply), Some(3));
        assert_eq!(pending_count(&Value::Array(vec![])), None);
    }
}
