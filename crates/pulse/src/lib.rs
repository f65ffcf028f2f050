//! Pulse, the event bus that carries feedback from stores to pipelines, in one process or
//! across machines.
//!
//! - [`EventBus`]: the operations every backend implements with identical meaning
//!   (consumer groups with fan-out and competition, at-least-once delivery, reclaim of idle
//!   entries, redelivery then dead-lettering, retention by count for telemetry and by
//!   acknowledgement for data streams, backlog); backends
//!   [`backend::memory::InMemoryBus`] and `backend::redis_streams::RedisStreamsBus`
//!   (cargo feature `redis`, on by default), chosen by [`BackendKind`].
//! - [`codec`]: the wire format shared with the Python originals.
//! - [`Pulse`]: typed publish and subscribe over the DTOs of `core-contracts`.
//! - [`Broadcast`]: a reader that sees every entry of a stream (no group), for state every
//!   reader needs whole.
//! - [`ConsumerRunner`]: a supervised handler loop with acks, fails and idempotency.
//! - [`PulseConfig`]: settings from the environment; [`PulseMetrics`]: telemetry.
//! - `testing` (feature `testing`, which implies `redis`): the test support other crates
//!   share.
//!
//! Without the default feature `redis` the crate has no Redis or TLS dependency: the
//! in-memory backend, the codec, the runner and the rest, with `EVENT_BUS_BACKEND=redis`
//! refused by [`PulseConfig::from_env`].

pub mod backend;
pub mod broadcast;
pub mod codec;
pub mod compat;
mod config;
mod error;
mod handle;
mod idempotency;
mod runner;
pub mod stream;
mod subscription;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
mod trim_schedule;

pub use backend::{Backlog, DeadLetter, EventBus, FailOutcome, Fields, RawEntry, StreamReader};
pub use broadcast::Broadcast;
pub use compat::CompatRule;
pub use config::{
    BackendKind, Compat, ConfigError, Enforcement, PulseConfig, redact_url, redis_address,
};
pub use error::BusError;
pub use handle::Pulse;
pub use idempotency::Idempotency;
pub use runner::{ConsumerRunner, Handler, RunnerReport};
pub use stream::{Retention, StreamName};
pub use subscription::{Delivery, Subscription};
pub use telemetry::PulseMetrics;
pub use tokio_util::sync::CancellationToken;
