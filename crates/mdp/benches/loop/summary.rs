//! The bench's own figures: rates accumulated over every timed iteration and single values,
//! printed as a table and written as a flat JSON object for `cargo xtask bench`.

use std::collections::BTreeMap;
use std::time::Duration;

/// Figures by name.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    values: BTreeMap<String, f64>,
    totals: BTreeMap<String, (f64, Duration)>,
}

impl Summary {
    /// Adds `items` done in `elapsed` to the rate `name` (items per second over all calls).
    pub(crate) fn rate(&mut self, name: &str, items: u64, elapsed: Duration) {
        let total = self.totals.entry(name.to_owned()).or_default();
        total.0 += items as f64;
        total.1 += elapsed;
        let rate = total.0 / total.1.as_secs_f64().max(1e-9);
        self.values.insert(name.to_owned(), rate);
    }

    /// Sets the figure `name`.
    pub(crate) fn value(&mut self, name: &str, value: f64) {
        self.values.insert(name.to_owned(), value);
    }

    /// The figure `name`, if measured.
    pub(crate) fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).copied()
    }

    /// Prints the table and writes `$CARGO_TARGET_DIR/mdp-bench/{file}`.
    pub(crate) fn report(&self, file: &str) {
        println!("\n{:<58} {:>16}", "mdp figure", "value");
        for (name, value) in &self.values {
            println!("{name:<58} {value:>16.1}");
        }
        let dir = std::path::Path::new(
            &std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()),
        )
        .join("mdp-bench");
        let written = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::write(
                dir.join(file),
                serde_json::to_string_pretty(&self.values).unwrap_or_default(),
            )
        });
        if let Err(error) = written {
            eprintln!("cannot write {}: {error}", dir.join(file).display());
        }
    }
}

/// The `p`-quantile of `sorted`, which must not be empty.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}
