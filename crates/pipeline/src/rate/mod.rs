//! Rate limiting per provider: a token bucket on an injected clock, a circuit breaker, and
//! the [`RateCoordinator`] that queues callers fairly in front of them.

mod adapter;
mod bucket;
mod coordinator;
mod error;
mod provider;
mod waiters;

pub use adapter::RateCoordinatorAdapter;
pub use bucket::TokenBucket;
pub use coordinator::RateCoordinator;
pub use error::RateError;
pub use provider::{ProviderConfig, ProviderState};
