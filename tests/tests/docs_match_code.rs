//! The operator docs list what the code reads and exports: every environment variable named
//! in a crate's (non-test) source is in `docs/operations.md`, and every metric name constant
//! of a telemetry module is in `docs/metrics.md`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const ENV_PREFIXES: &[&str] = &[
    "MDS_",
    "MDP_",
    "PULSE_",
    "REDIS_",
    "EVENT_BUS_",
    "MD_NAMESPACE",
    "SCHEMA_TRACK",
    "REGISTRY_ENFORCEMENT",
    "DATABASE_URL",
    "ADMIN_TOKEN",
    "LOG_FORMAT",
    "RUST_LOG",
    "NO_COLOR",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Quoted string literals of the source before its `#[cfg(test)]` module.
fn literals(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    code.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn crate_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(root().join("crates"))
        .expect("crates/")
        .flatten()
    {
        rust_files(&entry.path().join("src"), &mut files);
    }
    files
}

#[test]
fn every_env_var_the_code_reads_is_in_operations_md() {
    let doc = fs::read_to_string(root().join("docs/operations.md")).expect("docs/operations.md");
    let mut missing = BTreeSet::new();
    for file in crate_sources() {
        let source = fs::read_to_string(&file).expect("readable");
        for lit in literals(&source) {
            let is_var = ENV_PREFIXES.iter().any(|p| lit.starts_with(p))
                && lit.len() > 3
                && lit
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if is_var && !doc.contains(&format!("`{lit}`")) {
                missing.insert(format!(
                    "{lit} ({})",
                    file.strip_prefix(root()).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "add these to docs/operations.md: {missing:#?}"
    );
}

#[test]
fn every_metric_is_in_metrics_md() {
    let doc = fs::read_to_string(root().join("docs/metrics.md")).expect("docs/metrics.md");
    let mut missing = BTreeSet::new();
    let mut seen = 0;
    for file in crate_sources()
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("telemetry"))
    {
        let source = fs::read_to_string(&file).expect("readable");
        for line in source
            .lines()
            .filter(|l| l.trim_start().starts_with("pub const") && l.contains(": &str = \""))
        {
            let name = line.split('"').nth(1).unwrap_or_default();
            seen += 1;
            if !doc.contains(&format!("`{name}`")) {
                missing.insert(name.to_owned());
            }
        }
    }
    assert!(seen >= 20, "found only {seen} metric constants");
    assert!(
        missing.is_empty(),
        "add these to docs/metrics.md: {missing:#?}"
    );
}
