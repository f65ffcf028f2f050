//! `cargo xtask schema-export [--check]`: the committed JSON Schemas, kept fresh.

use std::fs;
use std::path::{Path, PathBuf};

use core_contracts::schema::{SchemaFile, export};
use similar::TextDiff;

const REGENERATE: &str = "cargo xtask schema-export";

/// The workspace root.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."))
        .to_owned()
}

/// The workspace's `schemas/` directory.
pub(crate) fn schemas_dir() -> PathBuf {
    workspace_root().join("schemas")
}

/// Writes every schema file under `dir` and removes stale `.json` files there.
pub(crate) fn write(dir: &Path) -> Result<String, String> {
    let files = export();
    write_files(dir, &files)?;
    Ok(format!(
        "wrote {} schema files to {}",
        files.len(),
        dir.display()
    ))
}

/// Writes `files` under `dir` and removes the `.json` files there that are not among them.
pub(crate) fn write_files(dir: &Path, files: &[SchemaFile]) -> Result<(), String> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&path, &file.contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    for stale in stale_files(dir, files) {
        fs::remove_file(dir.join(&stale)).map_err(|e| format!("cannot remove {stale}: {e}"))?;
    }
    Ok(())
}

/// Compares the committed files under `dir` with freshly generated ones; the error holds a
/// unified diff of every difference and the command that regenerates them.
pub(crate) fn check(dir: &Path) -> Result<String, String> {
    let files = export();
    let mut report = String::new();
    for file in &files {
        let committed = fs::read_to_string(dir.join(&file.path)).unwrap_or_default();
        if committed != file.contents {
            let diff = TextDiff::from_lines(&committed, &file.contents);
            let old = format!("a/schemas/{}", file.path);
            let new = format!("b/schemas/{}", file.path);
            report.push_str(
                &diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&old, &new)
                    .to_string(),
            );
        }
    }
    for stale in stale_files(dir, &files) {
        report.push_str(&format!(
            "stale file schemas/{stale} is no longer generated\n"
        ));
    }
    if report.is_empty() {
        Ok(format!("{} schema files are up to date", files.len()))
    } else {
        Err(format!(
            "{report}\nschemas/ is stale: run `{REGENERATE}` and commit the result"
        ))
    }
}

fn stale_files(dir: &Path, files: &[SchemaFile]) -> Vec<String> {
    let mut stale = Vec::new();
    for sub in ["", "v1", "v2"] {
        let Ok(entries) = fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if sub.is_empty() {
                name
            } else {
                format!("{sub}/{name}")
            };
            if rel.ends_with(".json") && !files.iter().any(|f| f.path == rel) {
                stale.push(rel);
            }
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schemas_are_fresh() {
        if let Err(report) = check(&schemas_dir()) {
            panic!("{report}");
        }
    }

    #[test]
    fn check_reports_a_changed_file_with_a_diff_and_the_command() {
        let dir = std::env::temp_dir().join(format!("mdp-schemas-{}", std::process::id()));
        write(&dir).expect("writes");
        let target = dir.join("v1/telemetry.FeedbackEvent.json");
        let edited = fs::read_to_string(&target)
            .expect("reads")
            .replace("queue", "line");
        fs::write(&target, edited).expect("edits");
        let report = check(&dir).expect_err("stale file is reported");
        fs::remove_dir_all(&dir).expect("cleans up");
        // The diff's own lines (not its `---`/`+++` headers): the committed wording out,
        // the generated one in, line for line.
        let changed = |sign: &str| -> Vec<&str> {
            let header = sign.repeat(3);
            report
                .lines()
                .filter(|l| l.starts_with(sign) && !l.starts_with(&header))
                .collect()
        };
        let (removed, added) = (changed("-"), changed("+"));
        assert!(!removed.is_empty(), "{report}");
        assert_eq!(removed.len(), added.len(), "{report}");
        assert!(removed.iter().all(|l| l.contains("line")), "{report}");
        assert!(added.iter().all(|l| l.contains("queue")), "{report}");
        assert!(
            report.contains("a/schemas/v1/telemetry.FeedbackEvent.json"),
            "{report}"
        );
        assert!(report.contains(REGENERATE), "{report}");
    }
}
