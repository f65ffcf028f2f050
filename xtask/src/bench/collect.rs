//! Reading criterion's results and the benches' own JSON summaries.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// One criterion benchmark: its id, mean time per iteration and elements per iteration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measurement {
    /// `group/function[/parameter]`.
    pub(crate) id: String,
    /// Mean nanoseconds per iteration.
    pub(crate) mean_ns: f64,
    /// Elements processed per iteration, when the bench declares a throughput.
    pub(crate) elements: Option<f64>,
}

impl Measurement {
    /// Elements per second, when known.
    pub(crate) fn per_second(&self) -> Option<f64> {
        self.elements.map(|e| e * 1e9 / self.mean_ns)
    }
}

/// Every criterion result under `target/criterion`, sorted by id, and the named figures of
/// every `target/mdp-bench/*.json` summary.
pub(crate) fn collect(target: &Path) -> Result<(Vec<Measurement>, BTreeMap<String, f64>), String> {
    let mut measurements = Vec::new();
    walk(&target.join("criterion"), &mut measurements);
    measurements.sort_by(|a, b| a.id.cmp(&b.id));
    let mut summaries = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(target.join("mdp-bench")) {
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) {
                for (k, v) in map {
                    if let Some(v) = v.as_f64() {
                        summaries.insert(k, v);
                    }
                }
            }
        }
    }
    Ok((measurements, summaries))
}

fn walk(dir: &Path, out: &mut Vec<Measurement>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(m) = read(&path) {
                out.push(m);
            }
        } else if path.is_dir()
            && path
                .file_name()
                .is_some_and(|n| n != "base" && n != "report")
        {
            walk(&path, out);
        }
    }
}

fn read(dir: &Path) -> Option<Measurement> {
    let bench: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("benchmark.json")).ok()?).ok()?;
    let estimates: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("estimates.json")).ok()?).ok()?;
    Some(Measurement {
        id: bench.get("full_id")?.as_str()?.to_owned(),
        mean_ns: estimates.pointer("/mean/point_estimate")?.as_f64()?,
        elements: bench
            .pointer("/throughput/Elements")
            .and_then(Value::as_f64),
    })
}
