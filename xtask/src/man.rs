//! `cargo xtask man [DIR]`: the man pages of `mdp` and each of its subcommands (roff, from
//! the command line's own definition by clap_mangen), written to `DIR` (default
//! `target/man`). Read one with `man -l target/man/mdp.1`.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use mdp_cli::Cli;

/// The default output directory under the workspace root.
pub(crate) fn default_dir(root: &Path) -> PathBuf {
    root.join("target").join("man")
}

/// Writes `mdp.1` and `mdp-<subcommand>.1` for every subcommand (nested ones included) to
/// `dir`; returns what was written.
pub(crate) fn write(dir: &Path) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut command = Cli::command();
    command.build();
    page(&command, "mdp", dir, &mut written)?;
    Ok(format!(
        "wrote {} man pages to {}: {}",
        written.len(),
        dir.display(),
        written.join(", ")
    ))
}

fn page(
    command: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut Vec<String>,
) -> Result<(), String> {
    let command = command.clone().name(name.to_owned());
    let mut roff = Vec::new();
    clap_mangen::Man::new(command.clone())
        .render(&mut roff)
        .map_err(|e| format!("cannot render the man page of {name}: {e}"))?;
    let file = format!("{name}.1");
    std::fs::write(dir.join(&file), roff)
        .map_err(|e| format!("cannot write {}: {e}", dir.join(&file).display()))?;
    written.push(file);
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        page(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_gets_a_page_with_its_flags_and_help() {
        let dir = std::env::temp_dir().join(format!("mdp-man-{}", std::process::id()));
        let message = write(&dir).expect("written");
        assert!(message.contains("mdp.1") && message.contains("mdp-pulse-dlq-list.1"));
        let main = std::fs::read_to_string(dir.join("mdp.1")).expect("mdp.1");
        assert!(main.contains(".TH mdp 1"), "{main}");
        assert!(main.contains("backpressure"), "{main}");
        let run = std::fs::read_to_string(dir.join("mdp-run.1")).expect("mdp-run.1");
        assert!(
            run.contains("sink\\-rate") && run.contains("docs/operations.md"),
            "{run}"
        );
        let store = std::fs::read_to_string(dir.join("mdp-store.1")).expect("mdp-store.1");
        assert!(store.contains("listen"), "{store}");
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
