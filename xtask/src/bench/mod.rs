//! `cargo xtask bench`: runs every criterion benchmark of the workspace in one go, gathers
//! the results (criterion's estimates and the summaries benches write to
//! `$CARGO_TARGET_DIR/mdp-bench/*.json`) and writes the one table of `docs/benchmarks.md`.

mod collect;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;

pub(crate) use collect::{Measurement, collect};
pub(crate) use report::render;

/// The build directory benchmarks write to.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// Runs the benchmarks (unless `collect_only`), then writes `docs/benchmarks.md`.
pub(crate) fn run(root: &Path, collect_only: bool) -> Result<String, String> {
    let target = target_dir(root);
    if !collect_only {
        let _ = std::fs::remove_dir_all(target.join("mdp-bench"));
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args(["bench", "--workspace", "--benches"])
            .status()
            .map_err(|e| format!("cannot run cargo bench: {e}"))?;
        if !status.success() {
            return Err(format!("cargo bench failed: {status}"));
        }
    }
    let (measurements, summaries) = collect(&target)?;
    if measurements.is_empty() {
        return Err(format!(
            "no criterion results under {}",
            target.join("criterion").display()
        ));
    }
    let machine = machine_note();
    let text = render(&measurements, &summaries, &machine);
    let out = root.join("docs/benchmarks.md");
    std::fs::write(&out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(format!(
        "wrote {} ({} benchmarks)",
        out.display(),
        measurements.len()
    ))
}

fn machine_note() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cores} cores, measured {date}")
}
