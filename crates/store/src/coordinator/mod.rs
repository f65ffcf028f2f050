//! The WriteCoordinator of SPEC §4.2: a bounded queue drained by supervised workers that
//! batch, retry transient failures until the sink recovers (through a circuit breaker that
//! probes on its own timer), bisect batches that fail permanently and dead-letter only the
//! offending bars, reporting the fate of every bar with its caller's [`Ticket`]
//! ([`BatchOutcome`]); and stop within a grace period ([`Leftover`]).
//!
//! The breaker and the retry schedule are the workspace's shared control laws,
//! [`core_contracts::breaker::CircuitBreaker`] and [`core_contracts::retry::RetryPolicy`];
//! this module keeps their settings ([`CoordinatorConfig`]), their telemetry and the
//! classifier of retryable sink errors.

mod builder;
mod config;
mod error;
mod guard;
mod health;
mod outcome;
mod signals;
mod stats;
mod stop;
mod supervisor;
mod ticket;
mod worker;
mod write_coordinator;

pub use builder::CoordinatorBuilder;
pub use config::CoordinatorConfig;
pub use error::{CoordinatorError, SubmitError};
pub use outcome::BatchOutcome;
pub use signals::{
    REASON_CIRCUIT_CLOSED, REASON_CIRCUIT_OPEN, REASON_DEAD_LETTER_FAILED,
    REASON_DEAD_LETTER_RECOVERED, REASON_HEARTBEAT,
};
pub use stats::CoordinatorStats;
pub use stop::Leftover;
pub use ticket::Ticket;
pub use write_coordinator::WriteCoordinator;
