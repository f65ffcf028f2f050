//! `cargo xtask schema-compat --check` and `cargo xtask schema-release`: the schemas against
//! the released baseline in `schemas/released/`, and the version bump their change needs.

use std::path::{Path, PathBuf};

use core_contracts::schema::SchemaFile;

use super::bump::check_bump;
use super::judge::{Entry, judge, overall};
use super::snapshot::Snapshot;
use super::tracks::v2_against_v1;
use super::version::Bump;
use crate::schema_export;

const RELEASE: &str = "cargo xtask schema-release";

/// The released baseline under the `schemas/` directory `schemas`.
pub(crate) fn released_dir(schemas: &Path) -> PathBuf {
    schemas.join("released")
}

/// Fails unless v2 is a compatible change of v1, the checker understands every schema, the
/// version bump since the baseline in `released` is as big as the schema change, and the
/// baseline is at the version of `current` (the export).
pub(crate) fn check(released: &Path, current: &[SchemaFile]) -> Result<String, String> {
    let judged = judge_release(released, current)?;
    if judged.made != Bump::None {
        return Err(format!(
            "{}core-contracts went from {} to {}, {} bump, enough for this change; record the \
             release: run `{RELEASE}` and commit schemas/released/",
            judged.report, judged.released, judged.current, judged.made
        ));
    }
    Ok(format!(
        "schemas match the released baseline of core-contracts {}; v2 is a compatible change \
         of v1",
        judged.current
    ))
}

/// Writes `current` as the new baseline in `released`, when the check allows its version.
pub(crate) fn release(released: &Path, current: &[SchemaFile]) -> Result<String, String> {
    if !released.join("index.json").exists() {
        schema_export::write_files(released, current)?;
        return Ok(format!(
            "wrote the first released baseline to {}",
            released.display()
        ));
    }
    let judged = judge_release(released, current)?;
    if judged.made == Bump::None {
        return Ok(format!(
            "schemas/released/ already holds core-contracts {}",
            judged.current
        ));
    }
    schema_export::write_files(released, current)?;
    Ok(format!(
        "{}released the schemas of core-contracts {} (was {}) to {}",
        judged.report,
        judged.current,
        judged.released,
        released.display()
    ))
}

/// What [`judge_release`] found acceptable.
#[derive(Debug)]
struct Judged {
    released: String,
    current: String,
    made: Bump,
    report: String,
}

fn judge_release(released: &Path, current: &[SchemaFile]) -> Result<Judged, String> {
    let tracks = v2_against_v1();
    if !tracks.is_empty() {
        return Err(format!(
            "{}v2 must be a compatible change of v1",
            lines(&tracks)
        ));
    }
    let baseline = Snapshot::read(released).map_err(|e| {
        format!("{e}\nthe released baseline is missing or damaged; `{RELEASE}` writes it")
    })?;
    let now = Snapshot::from_files(current)?;
    let entries = judge(&baseline, &now);
    let report = lines(&entries);
    let Some(change) = overall(&entries) else {
        return Err(format!(
            "{report}the compatibility checker cannot judge the places above, so it does not \
             call the change compatible: keep to the vocabulary it understands, or teach it \
             the keyword (xtask/src/schema_compat/)"
        ));
    };
    let made =
        check_bump(change, baseline.version, now.version).map_err(|e| format!("{report}{e}"))?;
    Ok(Judged {
        released: baseline.version.to_string(),
        current: now.version.to_string(),
        made,
        report,
    })
}

fn lines(entries: &[Entry]) -> String {
    entries.iter().map(|e| format!("{e}\n")).collect()
}

#[cfg(test)]
mod tests {
    use std::fs;

    use core_contracts::schema::{CORE_VERSION, export};
    use serde_json::{Value, json};

    use super::*;

    /// The export, stamped `version`.
    fn export_at(version: &str) -> Vec<SchemaFile> {
        let mut files = export();
        for file in &mut files {
            file.contents = file
                .contents
                .replace(
                    &format!("\"$core_version\": \"{CORE_VERSION}\""),
                    &format!("\"$core_version\": \"{version}\""),
                )
                .replace(
                    &format!("\"core_version\": \"{CORE_VERSION}\""),
                    &format!("\"core_version\": \"{version}\""),
                );
        }
        files
    }

    /// A released baseline of the export at `version`, in a directory of its own.
    struct Baseline(PathBuf);

    impl Baseline {
        fn at(test: &str, version: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("mdp-schema-release-{test}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            schema_export::write_files(&dir, &export_at(version)).expect("writes");
            Self(dir)
        }

        fn edit(&self, file: &str, change: impl FnOnce(&mut Value)) {
            let path = self.0.join(file);
            let mut schema: Value =
                serde_json::from_str(&fs::read_to_string(&path).expect("reads")).expect("json");
            change(&mut schema);
            fs::write(&path, format!("{schema:#}\n")).expect("writes");
        }
    }

    impl Drop for Baseline {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The current schemas lack a property the released ones had.
    fn breaking(baseline: &Baseline) {
        baseline.edit("v1/marketdata.Bar.json", |s| {
            s["properties"]["gone"] = json!({"type": "string"});
        });
    }

    /// The released schemas lack a property the current ones have.
    fn compatible(baseline: &Baseline) {
        baseline.edit("v2/telemetry.FeedbackEvent.json", |s| {
            s["properties"]
                .as_object_mut()
                .map(|p| p.shift_remove("seq"));
        });
    }

    #[test]
    fn the_committed_baseline_is_current() {
        let released = released_dir(&schema_export::schemas_dir());
        if let Err(report) = check(&released, &export()) {
            panic!("{report}");
        }
    }

    #[test]
    fn unchanged_schemas_at_the_released_version_pass() {
        let baseline = Baseline::at("unchanged", "0.3.1");
        let message = check(&baseline.0, &export_at("0.3.1")).expect("passes");
        assert!(message.contains("0.3.1"), "{message}");
    }

    #[test]
    fn a_compatible_change_without_a_bump_fails() {
        let baseline = Baseline::at("compatible-none", "0.3.1");
        compatible(&baseline);
        let error = check(&baseline.0, &export_at("0.3.1")).expect_err("needs a bump");
        assert!(
            error.contains(
                "v2/telemetry.FeedbackEvent.json: compatible: new schema at #/properties/seq"
            ),
            "{error}"
        );
        assert!(error.contains("needs a minor bump"), "{error}");
        assert!(error.contains("at least 0.3.2"), "{error}");
    }

    #[test]
    fn a_breaking_change_with_only_a_minor_bump_fails() {
        let baseline = Baseline::at("breaking-minor", "0.3.1");
        breaking(&baseline);
        let error = check(&baseline.0, &export_at("0.3.2")).expect_err("needs a major bump");
        assert!(
            error.contains("v1/marketdata.Bar.json: breaking: old schema at #/properties/gone"),
            "{error}"
        );
        assert!(error.contains("at least 0.4.0"), "{error}");
        assert!(release(&baseline.0, &export_at("0.3.2")).is_err());
    }

    #[test]
    fn a_breaking_change_with_a_major_bump_is_released_then_passes() {
        let baseline = Baseline::at("breaking-major", "0.3.1");
        breaking(&baseline);
        let error = check(&baseline.0, &export_at("0.4.0")).expect_err("baseline is behind");
        assert!(error.contains(RELEASE), "{error}");
        release(&baseline.0, &export_at("0.4.0")).expect("releases");
        check(&baseline.0, &export_at("0.4.0")).expect("passes after the release");
    }

    #[test]
    fn a_bump_with_unchanged_schemas_is_recorded_by_a_release() {
        let baseline = Baseline::at("bump-only", "0.3.1");
        assert!(check(&baseline.0, &export_at("0.3.2")).is_err());
        release(&baseline.0, &export_at("0.3.2")).expect("releases");
        check(&baseline.0, &export_at("0.3.2")).expect("passes after the release");
    }

    #[test]
    fn a_schema_not_understood_fails_whatever_the_bump() {
        let baseline = Baseline::at("not-understood", "0.3.1");
        baseline.edit("v1/marketdata.Bar.json", |s| {
            s["properties"]["symbol"]["allOf"] = json!([{"type": "string"}]);
        });
        let error = check(&baseline.0, &export_at("1.0.0")).expect_err("not understood");
        assert!(
            error.contains("old schema at #/properties/symbol/allOf"),
            "{error}"
        );
        assert!(error.contains("cannot judge"), "{error}");
    }

    #[test]
    fn a_missing_baseline_fails_the_check_and_a_release_writes_it() {
        let baseline = Baseline::at("missing", "0.3.1");
        fs::remove_dir_all(&baseline.0).expect("removes");
        let error = check(&baseline.0, &export_at("0.3.1")).expect_err("missing");
        assert!(error.contains(RELEASE), "{error}");
        release(&baseline.0, &export_at("0.3.1")).expect("writes the first baseline");
        check(&baseline.0, &export_at("0.3.1")).expect("passes");
    }
}
