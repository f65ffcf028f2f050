//! Assembly shared by `run`, the services and the tools: the Pulse bus from the environment
//! and the `--bus` flag. The two sides themselves live in their crates
//! ([`store::service::StoreSide`], [`pipeline::service::PipelineSide`]).

mod bus;

pub use bus::open_pulse;
