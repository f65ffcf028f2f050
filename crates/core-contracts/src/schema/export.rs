//! Generates `schemas/<track>/<schema_id>.json` and `schemas/index.json` from the DTOs.

use serde_json::{Map, Value, json};

use crate::{
    AuditEnvelope, Bar, ClusterTopology, Contract, ControlCommand, ControlReply, FeedbackEvent,
    HealthStatus, RateAdjustment, Track,
};

/// The version written into every schema as `$core_version` and into `index.json` as
/// `core_version`: core-contracts' own package version (its `Cargo.toml`), not the workspace's.
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One generated file, with its path relative to the `schemas/` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaFile {
    /// Path relative to `schemas/`, e.g. `v1/telemetry.FeedbackEvent.json`.
    pub path: String,
    /// The file's contents: pretty JSON with a trailing newline.
    pub contents: String,
}

/// The JSON Schema of `T` on `track`, augmented with `$schema_id`, `$track` and
/// `$core_version`. On v1 the v2-only properties are absent.
pub fn schema_for_track<T: Contract>(track: Track) -> Value {
    let mut schema = schemars::schema_for!(T).to_value();
    if let Some(obj) = schema.as_object_mut() {
        if track == Track::V1 {
            strip_fields(obj, T::V2_FIELDS);
        }
        obj.insert("$schema_id".into(), json!(T::SCHEMA_ID));
        obj.insert("$track".into(), json!(track.as_str()));
        obj.insert("$core_version".into(), json!(CORE_VERSION));
    }
    schema
}

fn strip_fields(schema: &mut Map<String, Value>, fields: &[&str]) {
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.retain(|name, _| !fields.contains(&name.as_str()));
    }
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|name| !fields.iter().any(|f| name == f));
    }
}

type SchemaFn = fn(Track) -> Value;

/// Every contract that travels on the bus, by schema id.
const CONTRACTS: [(&str, SchemaFn); 8] = [
    (FeedbackEvent::SCHEMA_ID, schema_for_track::<FeedbackEvent>),
    (
        RateAdjustment::SCHEMA_ID,
        schema_for_track::<RateAdjustment>,
    ),
    (HealthStatus::SCHEMA_ID, schema_for_track::<HealthStatus>),
    (AuditEnvelope::SCHEMA_ID, schema_for_track::<AuditEnvelope>),
    (Bar::SCHEMA_ID, schema_for_track::<Bar>),
    (
        ClusterTopology::SCHEMA_ID,
        schema_for_track::<ClusterTopology>,
    ),
    (
        ControlCommand::SCHEMA_ID,
        schema_for_track::<ControlCommand>,
    ),
    (ControlReply::SCHEMA_ID, schema_for_track::<ControlReply>),
];

/// Every schema file of every track, then `index.json`.
pub fn export() -> Vec<SchemaFile> {
    let mut files = Vec::new();
    let mut index = Map::new();
    for track in Track::ALL {
        let mut entries = Vec::new();
        for (schema_id, schema) in CONTRACTS {
            let path = format!("{track}/{schema_id}.json");
            files.push(SchemaFile {
                path: path.clone(),
                contents: pretty(&schema(track)),
            });
            entries.push(json!({ "schema_id": schema_id, "path": path }));
        }
        index.insert(track.as_str().into(), Value::Array(entries));
    }
    let index = json!({ "core_version": CORE_VERSION, "tracks": index });
    files.push(SchemaFile {
        path: "index.json".into(),
        contents: pretty(&index),
    });
    files
}

fn pretty(value: &Value) -> String {
    format!("{value:#}\n")
}

/// The schemas of one contract on both tracks: `(schema_id, v1, v2)`.
pub fn track_pairs() -> Vec<(&'static str, Value, Value)> {
    CONTRACTS
        .iter()
        .map(|(id, schema)| (*id, schema(Track::V1), schema(Track::V2)))
        .collect()
}
