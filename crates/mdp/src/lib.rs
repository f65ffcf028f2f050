//! The `mdp` binary's library half: everything `main.rs` dispatches to, and the wiring the
//! benchmarks assemble the loop from.
//!
//! `run` is the whole loop in one process, `services` the store and pipeline over the bus,
//! `orchestrator` the view and control of them all, `tools` the operator commands; `wiring`, `sink` and `telemetry` are the pieces they share.
//! The command line itself is the `mdp-cli` crate, re-exported as [`cli`].

pub use mdp_cli as cli;

pub mod bad_rows;
pub mod error_line;
mod http;
pub mod logging;
pub mod orchestrator;
mod paint;
pub mod run;
pub mod services;
mod shutdown;
pub mod sink;
pub mod source;
pub mod telemetry;
pub mod tools;
pub mod wiring;
