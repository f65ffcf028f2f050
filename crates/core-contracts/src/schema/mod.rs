//! JSON Schemas of the bus contracts per track, and the backward-compatibility checker.

mod compat;
mod export;

pub use compat::{BreakingChange, ChangeKind, breaking_changes};
pub use export::{CORE_VERSION, SchemaFile, export, schema_for_track, track_pairs};
