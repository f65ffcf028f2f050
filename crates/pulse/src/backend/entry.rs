//! Entries as backends read and write them: [`RawEntry`] keeps every field of a stream entry
//! as raw bytes, and [`DeadLetter`] is one entry of a dead-letter stream.
//!
//! A dead-letter entry is `original_id`, `reason`, `deliveries`, then the original entry's
//! fields verbatim (byte for byte, in order), so a Python reader still finds `data` beside the
//! three metadata fields. An original field whose name is one of the metadata names, or starts
//! with [`ESCAPE_PREFIX`], is stored under [`ESCAPE_PREFIX`] + its name; reading strips that
//! prefix once, so every original field comes back as it was.

use std::borrow::Cow;

/// The fields of one entry, names and values as raw bytes, in order.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// The field our publishers write: UTF-8 JSON of the wire format.
pub const DATA_FIELD: &str = "data";
/// Dead-letter field: id of the original entry.
pub const ORIGINAL_ID_FIELD: &str = "original_id";
/// Dead-letter field: why the entry was dead-lettered.
pub const REASON_FIELD: &str = "reason";
/// Dead-letter field: how many times the entry was delivered.
pub const DELIVERIES_FIELD: &str = "deliveries";
/// Prefix of an original field whose name collides with a dead-letter metadata name.
pub const ESCAPE_PREFIX: &str = "original.";

const METADATA: [&str; 3] = [ORIGINAL_ID_FIELD, REASON_FIELD, DELIVERIES_FIELD];

/// One stream entry as read from a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// The backend's entry id.
    pub id: String,
    /// Every field of the entry, verbatim; empty when the entry was trimmed away while
    /// pending.
    pub fields: Fields,
}

impl RawEntry {
    /// An entry with the one field `data`, as our publishers write it.
    pub fn with_data(id: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Self {
            id: id.into(),
            fields: data_fields(data),
        }
    }

    /// The `data` field, if the entry has one.
    pub fn data(&self) -> Option<&[u8]> {
        field(&self.fields, DATA_FIELD)
    }
}

/// The fields of an entry holding only `data`.
pub fn data_fields(data: impl Into<Vec<u8>>) -> Fields {
    vec![(DATA_FIELD.as_bytes().to_vec(), data.into())]
}

fn field<'a>(fields: &'a [(Vec<u8>, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    fields
        .iter()
        .find(|(f, _)| f == name.as_bytes())
        .map(|(_, v)| v.as_slice())
}

/// One entry of a dead-letter stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The dead-letter entry's own id.
    pub id: String,
    /// Id of the original entry.
    pub original_id: String,
    /// Why it was dead-lettered.
    pub reason: String,
    /// How many times it was delivered.
    pub deliveries: u32,
    /// The original entry's fields, byte for byte.
    pub fields: Fields,
}

impl DeadLetter {
    /// The original `data` field, if the entry had one.
    pub fn data(&self) -> Option<&[u8]> {
        field(&self.fields, DATA_FIELD)
    }

    /// The original `data` as text for display (lossy for non-UTF-8 bytes; empty when the
    /// entry had no `data` field).
    pub fn data_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.data().unwrap_or_default())
    }
}

/// The fields of the dead-letter entry of `original`.
pub fn dead_letter_fields(
    original_id: &str,
    reason: &str,
    deliveries: u32,
    original: &[(Vec<u8>, Vec<u8>)],
) -> Fields {
    let mut fields = Vec::with_capacity(original.len() + METADATA.len());
    fields.push((ORIGINAL_ID_FIELD.into(), original_id.into()));
    fields.push((REASON_FIELD.into(), reason.into()));
    fields.push((DELIVERIES_FIELD.into(), deliveries.to_string().into_bytes()));
    for (name, value) in original {
        let escaped = METADATA.iter().any(|m| name == m.as_bytes())
            || name.starts_with(ESCAPE_PREFIX.as_bytes());
        let name = if escaped {
            [ESCAPE_PREFIX.as_bytes(), name].concat()
        } else {
            name.clone()
        };
        fields.push((name, value.clone()));
    }
    fields
}

/// Reads a dead-letter entry written by [`dead_letter_fields`] (or by the Python originals).
pub fn parse_dead_letter(id: String, fields: Fields) -> DeadLetter {
    let text =
        |name| String::from_utf8_lossy(field(&fields, name).unwrap_or_default()).into_owned();
    let original_id = text(ORIGINAL_ID_FIELD);
    let reason = text(REASON_FIELD);
    let deliveries = text(DELIVERIES_FIELD).parse().unwrap_or(0);
    let mut seen = [false; METADATA.len()];
    let mut original = Vec::with_capacity(fields.len().saturating_sub(METADATA.len()));
    for (name, value) in fields {
        if let Some(i) = METADATA.iter().position(|m| name == m.as_bytes())
            && !seen[i]
        {
            seen[i] = true;
            continue;
        }
        let name = match name.strip_prefix(ESCAPE_PREFIX.as_bytes()) {
            Some(rest) => rest.to_vec(),
            None => name,
        };
        original.push((name, value));
    }
    DeadLetter {
        id,
        original_id,
        reason,
        deliveries,
        fields: original,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &[u8], value: &[u8]) -> (Vec<u8>, Vec<u8>) {
        (name.to_vec(), value.to_vec())
    }

    #[test]
    fn a_dead_letter_starts_with_its_metadata_then_the_original_fields() {
        let original = vec![pair(b"data", b"{\"x\":1}")];
        let fields = dead_letter_fields("7-0", "boom", 3, &original);
        assert_eq!(
            fields,
            vec![
                pair(b"original_id", b"7-0"),
                pair(b"reason", b"boom"),
                pair(b"deliveries", b"3"),
                pair(b"data", b"{\"x\":1}"),
            ]
        );
    }

    #[test]
    fn every_original_field_round_trips_byte_for_byte() {
        let cases: Vec<Fields> = vec![
            vec![pair(b"payload", b"p")],
            vec![pair(b"data", &[0xff, 0xfe, 0x00, b'a'])],
            vec![pair(b"reason", b"theirs"), pair(b"deliveries", b"x")],
            vec![pair(b"original.id", b"a"), pair(b"original_id", b"b")],
            vec![
                pair(&[0xc3, 0x28], b""),
                pair(b"data", b"1"),
                pair(b"data", b"2"),
            ],
            vec![],
        ];
        for original in cases {
            let fields = dead_letter_fields("1-0", "why", 2, &original);
            let letter = parse_dead_letter("9-0".into(), fields);
            assert_eq!(letter.fields, original);
            assert_eq!(
                (
                    letter.original_id.as_str(),
                    letter.reason.as_str(),
                    letter.deliveries
                ),
                ("1-0", "why", 2)
            );
        }
    }

    #[test]
    fn colliding_names_are_stored_under_the_escape_prefix() {
        let fields = dead_letter_fields("1-0", "why", 1, &[pair(b"reason", b"theirs")]);
        assert_eq!(fields[3], pair(b"original.reason", b"theirs"));
    }

    #[test]
    fn data_text_is_lossy_and_empty_without_data() {
        let letter = parse_dead_letter(
            "1-0".into(),
            dead_letter_fields("1-0", "r", 1, &[pair(b"data", &[b'a', 0xff])]),
        );
        assert_eq!(letter.data_text(), "a\u{fffd}");
        let none = parse_dead_letter("1-0".into(), dead_letter_fields("1-0", "r", 1, &[]));
        assert_eq!(none.data_text(), "");
    }
}
