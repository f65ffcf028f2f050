//! The WriteCoordinator of SPEC §4.2: a bounded queue drained by supervised workers that
//! batch, retry, go through a circuit breaker and dead-letter what cannot be written,
//! reporting the fate of every batch ([`BatchOutcome`]).

mod breaker;
mod builder;
mod config;
mod error;
mod guard;
mod health;
mod outcome;
mod retry;
mod signals;
mod stats;
mod supervisor;
mod worker;
mod write_coordinator;

pub use breaker::{Admission, BreakerConfig, BreakerState, CircuitBreaker, Transition};
pub use builder::CoordinatorBuilder;
pub use config::CoordinatorConfig;
pub use error::{CoordinatorError, SubmitError};
pub use outcome::BatchOutcome;
pub use retry::RetryPolicy;
pub use signals::{REASON_CIRCUIT_CLOSED, REASON_CIRCUIT_OPEN, REASON_HEARTBEAT};
pub use stats::CoordinatorStats;
pub use write_coordinator::WriteCoordinator;
