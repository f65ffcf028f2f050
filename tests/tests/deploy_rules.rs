//! The files in `deploy/` hold together: `promtool` accepts the alert rules and their unit
//! tests pass, every alert has its `for`, severity, summary and description and is tested both
//! firing and not firing, every metric the rules and the Grafana dashboard use is documented in
//! `docs/metrics.md`, and the dashboard is well formed.
//!
//! `promtool` is taken from `PATH`; without it the promtool test is skipped
//! (`pulse::testing::skip`: a marker line, and a failure under CI).

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const ALERTS: &str = "deploy/prometheus/alerts.yml";
const ALERT_TESTS: &str = "deploy/prometheus/alerts_test.yml";
const DASHBOARD: &str = "deploy/grafana/mdp-loop.json";

/// Names starting with one of these are mdp metrics.
const METRIC_PREFIXES: &[&str] = &["mds_", "mdp_", "pulse_", "pipeline_", "sink_", "feedback_"];

/// Series a histogram exports besides its documented name.
const HISTOGRAM_SUFFIXES: &[&str] = &["_bucket", "_sum", "_count"];

/// The alerts `deploy/README.md` and the operators expect.
const EXPECTED_ALERTS: &[&str] = &[
    "MdpStoreHardForLong",
    "MdpCircuitBreakerOpen",
    "MdpBacklogGrowing",
    "MdpDeadLetters",
    "MdpPipelinePaused",
    "MdpTargetDown",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_owned()
}

fn read(relative: &str) -> String {
    fs::read_to_string(root().join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Runs `promtool ARGS` in the workspace root and asserts it succeeds; `false` when promtool
/// is not installed (outside CI).
fn promtool(args: &[&str]) -> bool {
    let output = match Command::new("promtool")
        .args(args)
        .current_dir(root())
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            pulse::testing::skip(&format!(
                "promtool is not on PATH; install Prometheus' promtool (2.x, Debian package \
                 prometheus) to check and test {ALERTS}"
            ));
            return false;
        }
        Err(e) => panic!("promtool {}: {e}", args.join(" ")),
    };
    assert!(
        output.status.success(),
        "promtool {} failed ({}):\n{}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    true
}

#[test]
fn promtool_accepts_the_rules_and_their_tests_pass() {
    if promtool(&["check", "rules", ALERTS]) {
        promtool(&["test", "rules", ALERT_TESTS]);
    }
}

/// The mdp metric names in `text`: words of `[A-Za-z0-9_:]` starting with a known prefix.
fn metric_names(text: &str, out: &mut BTreeSet<String>) {
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
        if METRIC_PREFIXES.iter().any(|p| word.starts_with(p)) {
            out.insert(word.to_owned());
        }
    }
}

/// Every string value of a field `expr`, anywhere in `value`.
fn exprs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, field) in map {
                match field {
                    Value::String(s) if key == "expr" => out.push(s),
                    _ => exprs(field, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| exprs(item, out)),
        _ => {}
    }
}

fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).unwrap_or_else(|e| panic!("{DASHBOARD}: {e}"))
}

#[test]
fn every_metric_of_the_rules_and_the_dashboard_is_in_metrics_md() {
    let doc = read("docs/metrics.md");
    let documented = |name: &str| doc.contains(&format!("`{name}`"));

    let mut names = BTreeSet::new();
    metric_names(&read(ALERTS), &mut names);
    let in_rules = names.len();
    let dashboard = dashboard();
    let mut dashboard_exprs = Vec::new();
    exprs(&dashboard, &mut dashboard_exprs);
    for expr in &dashboard_exprs {
        metric_names(expr, &mut names);
    }
    assert!(
        in_rules >= 8,
        "found only {in_rules} metric names in {ALERTS}"
    );
    assert!(
        dashboard_exprs.len() >= 8,
        "found only {} expressions in {DASHBOARD}",
        dashboard_exprs.len()
    );

    let missing: BTreeSet<&String> = names
        .iter()
        .filter(|name| {
            !documented(name)
                && !HISTOGRAM_SUFFIXES
                    .iter()
                    .any(|suffix| name.strip_suffix(suffix).is_some_and(&documented))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "metrics used in {ALERTS} or {DASHBOARD} but not in docs/metrics.md: {missing:#?}"
    );
}

/// The rules of `alerts.yml` as (alert name, text from its `- alert:` line to the next one).
fn alert_rules(yaml: &str) -> Vec<(String, String)> {
    let mut rules: Vec<(String, String)> = Vec::new();
    for line in yaml.lines() {
        if let Some(name) = line.trim_start().strip_prefix("- alert:") {
            rules.push((name.trim().to_owned(), String::new()));
        }
        if let Some((_, text)) = rules.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    rules
}

#[test]
fn every_alert_is_annotated_and_tested_firing_and_not_firing() {
    let rules = alert_rules(&read(ALERTS));
    let names: BTreeSet<&str> = rules.iter().map(|(name, _)| name.as_str()).collect();
    let expected: BTreeSet<&str> = EXPECTED_ALERTS.iter().copied().collect();
    assert_eq!(names, expected, "alerts of {ALERTS}");
    for (name, text) in &rules {
        for field in ["expr:", "for:", "severity:", "summary:", "description:"] {
            assert!(
                text.lines().any(|l| l.trim_start().starts_with(field)),
                "a rule of {name} in {ALERTS} has no `{field}`:\n{text}"
            );
        }
        assert!(
            text.contains("docs/operations.md"),
            "a rule of {name} in {ALERTS} does not point to docs/operations.md"
        );
    }

    // After each `alertname: X` of the tests comes `exp_alerts: []` (not firing) or a list.
    let tests = read(ALERT_TESTS);
    let lines: Vec<&str> = tests
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut firing = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = line.strip_prefix("alertname:") else {
            continue;
        };
        let name = name.trim().to_owned();
        match lines.get(i + 1).copied() {
            Some("exp_alerts: []") => quiet.insert(name),
            Some("exp_alerts:") => firing.insert(name),
            other => panic!("in {ALERT_TESTS}, alertname {name} is followed by {other:?}"),
        };
    }
    for name in EXPECTED_ALERTS {
        assert!(
            firing.contains(*name),
            "{ALERT_TESTS} has no case where {name} fires"
        );
        assert!(
            quiet.contains(*name),
            "{ALERT_TESTS} has no case where {name} does not fire"
        );
    }
}

#[test]
fn the_dashboard_is_well_formed() {
    let dashboard = dashboard();
    assert_eq!(dashboard["uid"], "mdp-loop", "uid of {DASHBOARD}");
    let schema = dashboard["schemaVersion"].as_u64().unwrap_or_default();
    assert!(schema >= 36, "{DASHBOARD} has schemaVersion {schema}");

    // Panels, with those nested in rows.
    let mut panels = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        if panel["type"] == "row" {
            panels.extend(panel["panels"].as_array().into_iter().flatten());
        } else {
            panels.push(panel);
        }
    }
    assert!(
        panels.len() >= 8,
        "{DASHBOARD} has {} panels, expected at least 8",
        panels.len()
    );

    let mut ids = BTreeSet::new();
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("(untitled)");
        assert!(
            ids.insert(panel["id"].as_u64().unwrap_or_default()),
            "panel {title}: missing or repeated id"
        );
        let targets = panel["targets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert!(!targets.is_empty(), "panel {title} has no target");
        for target in targets {
            assert!(
                target["expr"]
                    .as_str()
                    .is_some_and(|e| !e.trim().is_empty()),
                "panel {title} has a target without an expression"
            );
        }
        // The data source is chosen on import: a variable, never a fixed uid.
        let uid = panel["datasource"]["uid"].as_str().unwrap_or_default();
        assert!(
            uid.starts_with('$'),
            "panel {title} has a fixed data source {uid:?}"
        );
    }
}
