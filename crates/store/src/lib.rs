//! The store side of mdp.
//!
//! This crate is being built: it does not yet contain a queue, coordinator or sink.
