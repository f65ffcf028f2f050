//! The store side of mdp.
//!
//! This crate is being built: today it holds the [`sink::Sink`] trait that the coordinator
//! writes through and the sink backends implement.

pub mod config;
pub mod sink;
pub mod telemetry;
