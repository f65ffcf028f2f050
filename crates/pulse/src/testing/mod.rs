//! Test support shared by every crate that tests against the bus (feature `testing`): a
//! harness per backend with its own key prefix, the local Redis (a failure under `CI=true`
//! when unreachable, a loud skip otherwise), a private `redis-server` a test may kill, and a
//! bus whose first reader openings fail; the path of a crate's example program, the Python
//! originals as a peer, and polling for a condition.

mod example;
mod flaky;
mod harness;
mod python;
mod redis_server;
mod wait;

pub use example::example_binary;
pub use flaky::FlakyBus;
pub use harness::{Harness, redis_available, redis_url, test_config, unique_prefix};
pub use python::{PeerProcess, PythonPeer};
pub use redis_server::RedisServer;
pub use wait::wait_for;
