//! Judges the current schemas against the released ones, file by file.

use std::fmt;

use super::bump::SchemaChange;
use super::compare::compare;
use super::finding::Severity;
use super::snapshot::{Snapshot, unstamped};

/// One judged difference, in one schema file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The schema's path under `schemas/`, e.g. `v1/telemetry.FeedbackEvent.json`.
    pub(crate) file: String,
    /// How it weighs.
    pub(crate) severity: Severity,
    /// What, with its JSON pointer when it is inside the schema.
    pub(crate) message: String,
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Every judged difference from `old` to `new` schema file `file`.
pub(crate) fn judge_schema(
    file: &str,
    old: &serde_json::Value,
    new: &serde_json::Value,
) -> Vec<Entry> {
    let entry = |severity, message| Entry {
        file: file.to_owned(),
        severity,
        message,
    };
    let mut entries: Vec<Entry> = compare(old, new)
        .into_iter()
        .map(|finding| entry(finding.severity(), finding.to_string()))
        .collect();
    if entries.is_empty() && unstamped(old) != unstamped(new) {
        entries.push(entry(
            Severity::Compatible,
            "compatible: changed, with no breaking change (annotations, widened bounds or types)"
                .to_owned(),
        ));
    }
    entries
}

/// Every judged difference from the `released` schemas to the `current` ones.
pub(crate) fn judge(released: &Snapshot, current: &Snapshot) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (file, old) in &released.schemas {
        match current.schemas.get(file) {
            Some(new) => entries.extend(judge_schema(file, old, new)),
            None => entries.push(Entry {
                file: file.clone(),
                severity: Severity::Breaking,
                message: "breaking: schema removed".to_owned(),
            }),
        }
    }
    for file in current.schemas.keys() {
        if !released.schemas.contains_key(file) {
            entries.push(Entry {
                file: file.clone(),
                severity: Severity::Compatible,
                message: "compatible: schema added".to_owned(),
            });
        }
    }
    entries
}

/// The change the entries amount to; `None` when one of them is not understood.
pub(crate) fn overall(entries: &[Entry]) -> Option<SchemaChange> {
    match entries.iter().map(|e| e.severity).max() {
        None => Some(SchemaChange::Unchanged),
        Some(Severity::Compatible) => Some(SchemaChange::Compatible),
        Some(Severity::Breaking) => Some(SchemaChange::Breaking),
        Some(Severity::NotUnderstood) => None,
    }
}

#[cfg(test)]
mod tests {
    use core_contracts::schema::export;
    use serde_json::json;

    use super::*;

    fn current() -> Snapshot {
        Snapshot::from_files(&export()).expect("reads")
    }

    #[test]
    fn the_same_schemas_are_unchanged_whatever_their_stamp() {
        let mut restamped = current();
        for schema in restamped.schemas.values_mut() {
            schema["$core_version"] = json!("0.0.1");
        }
        let entries = judge(&restamped, &current());
        assert_eq!(entries, vec![]);
        assert_eq!(overall(&entries), Some(SchemaChange::Unchanged));
    }

    #[test]
    fn a_changed_description_is_a_compatible_change() {
        let mut released = current();
        let bar = released
            .schemas
            .get_mut("v1/marketdata.Bar.json")
            .expect("exported");
        bar["description"] = json!("an older wording");
        let entries = judge(&released, &current());
        assert_eq!(entries.len(), 1, "{entries:#?}");
        assert_eq!(entries[0].file, "v1/marketdata.Bar.json");
        assert_eq!(overall(&entries), Some(SchemaChange::Compatible));
    }

    #[test]
    fn removed_and_added_schemas_are_judged() {
        let mut released = current();
        let bar = released
            .schemas
            .remove("v2/marketdata.Bar.json")
            .expect("exported");
        assert_eq!(
            overall(&judge(&released, &current())),
            Some(SchemaChange::Compatible)
        );
        released
            .schemas
            .insert("v3/marketdata.Bar.json".into(), bar);
        let entries = judge(&released, &current());
        assert_eq!(overall(&entries), Some(SchemaChange::Breaking));
        assert!(entries.iter().any(|e| e.file == "v3/marketdata.Bar.json"));
    }

    #[test]
    fn a_finding_carries_its_file_and_pointer() {
        let old = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        let new = json!({"type": "object", "properties": {"a": {"type": "string", "not": {}}}});
        let entries = judge_schema("v1/x.json", &old, &new);
        assert_eq!(overall(&entries), None);
        assert_eq!(
            entries[0].to_string(),
            "v1/x.json: not understood: new schema at #/properties/a/not: `not`: keyword not \
             understood by the compatibility checker, which judges only type, enum, const, \
             properties, required, additionalProperties, items, anyOf, oneOf, local $ref, \
             numeric and length bounds, pattern and format"
        );
    }
}
