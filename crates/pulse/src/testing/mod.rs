//! Test support shared by every crate that tests against the bus (feature `testing`): the CI
//! rule (a test that cannot run is a failure under CI and a visible skip elsewhere), the test
//! matrix (the backends and tracks of this run), a harness per backend with its own key
//! prefix, the local Redis, a private `redis-server` a test may kill, and a bus whose first
//! reader openings fail; the path of a crate's example program, the Python originals as a
//! peer, and polling for a condition.

mod ci;
mod example;
mod flaky;
mod harness;
mod matrix;
mod python;
mod redis_server;
mod wait;

pub use ci::{SKIP_MARKER, in_ci, skip};
pub use example::example_binary;
pub use flaky::FlakyBus;
pub use harness::{Harness, redis_available, redis_url, test_config, unique_prefix};
pub use matrix::{backends, tracks};
pub use python::{PeerProcess, PythonPeer};
pub use redis_server::RedisServer;
pub use wait::wait_for;
