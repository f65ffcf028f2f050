//! The JSON Schema compatibility checker and the version rule built on it.
//!
//! - [`compare`](compare::compare): the findings from an old schema to a new one; strict,
//!   every keyword it does not understand is a finding that fails the check.
//! - `cargo xtask schema-compat --check`: v2 is a compatible change of v1, and the change of
//!   the schemas since the released baseline (`schemas/released/`) fits the bump of
//!   core-contracts' version (breaking: major, compatible: at least minor, Cargo's
//!   convention for `0.y.z`: `y` is major, `z` minor), and the baseline is at that version.
//! - `cargo xtask schema-release`: after such a bump, records the current schemas as the
//!   baseline.

mod bump;
mod command;
mod compare;
#[cfg(test)]
mod compare_tests;
mod finding;
mod judge;
mod snapshot;
mod tracks;
mod version;
mod vocabulary;

pub(crate) use command::{check, release, released_dir};
