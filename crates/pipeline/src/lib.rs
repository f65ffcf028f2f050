//! The pipeline side of mdp.
//!
//! This crate is being built: it does not yet contain a rate coordinator or sources.
