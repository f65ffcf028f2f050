//! Project automation, run as `cargo xtask <command>`.
//!
//! - `schema-export [--check]`: write `schemas/` from the DTOs, or check it is up to date.
//! - `schema-compat --check`: check v2 against v1, and the schemas' change since the
//!   released baseline `schemas/released/` against the bump of core-contracts' version.
//! - `schema-release`: record the current schemas as the released baseline after a bump.
//! - `bench [--collect-only]`: run every benchmark and write `docs/benchmarks.md`.
//! - `man [DIR]`: write the man pages of `mdp` (default `target/man`).

mod bench;
mod man;
mod schema_compat;
mod schema_export;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask schema-export [--check] | cargo xtask schema-compat \
                     --check | cargo xtask schema-release | cargo xtask bench [--collect-only] \
                     | cargo xtask man [DIR]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["schema-export"] => schema_export::write(&schema_export::schemas_dir()),
        ["schema-export", "--check"] => schema_export::check(&schema_export::schemas_dir()),
        ["schema-compat", "--check"] => schema_compat::check(
            &schema_compat::released_dir(&schema_export::schemas_dir()),
            &core_contracts::schema::export(),
        ),
        ["schema-release"] => schema_compat::release(
            &schema_compat::released_dir(&schema_export::schemas_dir()),
            &core_contracts::schema::export(),
        ),
        ["bench"] => bench::run(&schema_export::workspace_root(), false),
        ["bench", "--collect-only"] => bench::run(&schema_export::workspace_root(), true),
        ["man"] => man::write(&man::default_dir(&schema_export::workspace_root())),
        ["man", dir] => man::write(std::path::Path::new(dir)),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
