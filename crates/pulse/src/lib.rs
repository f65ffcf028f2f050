//! Pulse, the event bus that carries feedback from stores to pipelines.
//!
//! This crate is being built: it does not yet contain a bus. See `SPEC §3` for what it will
//! hold (the `EventBus` trait, in-memory and Redis Streams backends, the codec and the
//! consumer runner).
