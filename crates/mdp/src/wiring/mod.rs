//! Assembly shared by `run`, the services and the tools: the Pulse bus from the environment
//! and the `--bus` flag, and the metrics every service exports from its start. The two sides themselves live in their crates
//! ([`store::service::StoreSide`], [`pipeline::service::PipelineSide`]).

mod bus;
mod prime;

pub use bus::{BusUser, open_pulse};
pub use prime::prime_metrics;
