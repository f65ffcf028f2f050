//! JSON Schemas of the bus contracts per track. Their compatibility checker is tooling and
//! lives in xtask (`cargo xtask schema-compat --check`).

mod export;

pub use export::{CORE_VERSION, SchemaFile, export, schema_for_track, track_pairs};
