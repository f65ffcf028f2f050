//! A set of exported schemas and the core-contracts version they are stamped with: the
//! current export, or the released baseline under `schemas/released/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use core_contracts::schema::SchemaFile;
use serde_json::Value;

use super::version::Version;

/// The index every export writes next to its schemas.
const INDEX: &str = "index.json";

/// The stamp every schema carries at its root.
pub(crate) const STAMP: &str = "$core_version";

/// Schemas by path (e.g. `v1/telemetry.FeedbackEvent.json`), and their version.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    /// The `core_version` of the index, which every schema's `$core_version` repeats.
    pub(crate) version: Version,
    /// Every schema the index lists.
    pub(crate) schemas: BTreeMap<String, Value>,
}

impl Snapshot {
    /// Reads the files of an export, as [`core_contracts::schema::export`] returns them.
    pub(crate) fn from_files(files: &[SchemaFile]) -> Result<Self, String> {
        Self::parse("the export", |path| {
            files
                .iter()
                .find(|f| f.path == path)
                .map(|f| f.contents.clone())
                .ok_or_else(|| format!("the export has no {path}"))
        })
    }

    /// Reads the export written under `dir`.
    pub(crate) fn read(dir: &Path) -> Result<Self, String> {
        Self::parse(&dir.display().to_string(), |path| {
            let file = dir.join(path);
            fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))
        })
    }

    fn parse(origin: &str, read: impl Fn(&str) -> Result<String, String>) -> Result<Self, String> {
        let json = |path: &str| -> Result<Value, String> {
            serde_json::from_str(&read(path)?)
                .map_err(|e| format!("{origin}: {path} is not JSON: {e}"))
        };
        let index = json(INDEX)?;
        let version = index
            .get("core_version")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{origin}: {INDEX} has no core_version"))?;
        let version: Version = version
            .parse()
            .map_err(|e| format!("{origin}: {INDEX}: {e}"))?;
        let paths = index
            .get("tracks")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("{origin}: {INDEX} has no tracks"))?
            .values()
            .filter_map(Value::as_array)
            .flatten()
            .map(|entry| entry.get("path").and_then(Value::as_str));
        let mut schemas = BTreeMap::new();
        for path in paths {
            let path = path.ok_or_else(|| format!("{origin}: an {INDEX} entry has no path"))?;
            let schema = json(path)?;
            let stamp = schema.get(STAMP).and_then(Value::as_str);
            if stamp != Some(version.to_string().as_str()) {
                return Err(format!(
                    "{origin}: {path} is stamped {stamp:?}, its index {version}"
                ));
            }
            schemas.insert(path.to_owned(), schema);
        }
        Ok(Self { version, schemas })
    }
}

/// `schema` without its version stamp, to tell a change from a re-stamp.
pub(crate) fn unstamped(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Some(map) = schema.as_object_mut() {
        map.shift_remove(STAMP);
    }
    schema
}

#[cfg(test)]
mod tests {
    use core_contracts::schema::{CORE_VERSION, export};

    use super::*;

    #[test]
    fn the_export_reads_with_core_contracts_version() {
        let snapshot = Snapshot::from_files(&export()).expect("reads");
        assert_eq!(snapshot.version.to_string(), CORE_VERSION);
        assert_eq!(snapshot.schemas.len(), 16);
        assert!(
            snapshot
                .schemas
                .contains_key("v2/telemetry.FeedbackEvent.json")
        );
    }

    #[test]
    fn the_stamp_is_core_contracts_package_version() {
        let manifest =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/core-contracts/Cargo.toml");
        let manifest = fs::read_to_string(manifest).expect("reads the manifest");
        let version = manifest
            .lines()
            .find_map(|l| l.strip_prefix("version = \""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("core-contracts sets its own version");
        assert_eq!(CORE_VERSION, version);
    }

    #[test]
    fn a_schema_stamped_otherwise_than_its_index_is_refused() {
        let mut files = export();
        let file = files
            .iter_mut()
            .find(|f| f.path == "v1/marketdata.Bar.json")
            .expect("exported");
        let stamp = format!("\"{STAMP}\": \"{CORE_VERSION}\"");
        assert!(file.contents.contains(&stamp));
        file.contents = file
            .contents
            .replace(&stamp, &format!("\"{STAMP}\": \"9.9.9\""));
        let error = Snapshot::from_files(&files).expect_err("refused");
        assert!(error.contains("v1/marketdata.Bar.json"), "{error}");
    }

    #[test]
    fn unstamped_drops_only_the_stamp() {
        let schema = serde_json::json!({"$core_version": "0.1.0", "type": "string"});
        assert_eq!(unstamped(&schema), serde_json::json!({"type": "string"}));
    }
}
