//! `mdp orchestrator`: one view and one hand on the whole loop.
//!
//! It hears every store and pipeline without taking anything from them (`watch`: broadcast
//! reads of the feedback, status, rate-adjustment and control-result streams, and the bars
//! stream's backlog), keeps what it knows of each (`topology`, judged by the rules of
//! `health`, with the last minutes in `history`), serves the live page and its API
//! (`routes`), and relays operators' commands to the members with an audit trail
//! (`relay`). `service` runs it; `settings` reads its environment.

mod health;
mod history;
mod relay;
mod routes;
mod service;
mod settings;
mod state;
mod topology;
mod watch;

pub use service::run_orchestrator;
