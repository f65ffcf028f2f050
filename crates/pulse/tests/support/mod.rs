//! Helpers of the pulse tests: the shared test support of the crate (feature `testing`), the
//! runtime of a test on each backend, and a feedback event numbered for telling events apart.

#![allow(dead_code, unused_imports)]

pub(crate) use pulse::testing::{Harness, redis_available, redis_url, test_config, unique_prefix};

pub(crate) mod redis_server {
    //! The private `redis-server` of the shared test support.
    pub(crate) use pulse::testing::RedisServer;
}

use core_contracts::{BackpressureLevel, FeedbackEvent};
use pulse::BackendKind;

/// The runtime a case runs in on `backend`: the in-memory bus on a current-thread runtime
/// with tokio's clock paused (it auto-advances when every task waits, so timeouts are exact
/// and take no time); Redis on two worker threads in real time, since the server measures
/// idle time on its own clock.
pub(crate) fn runtime_for(backend: BackendKind) -> tokio::runtime::Runtime {
    match backend {
        BackendKind::InMemory => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build(),
        BackendKind::Redis => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    }
    .expect("a tokio runtime")
}

/// A valid feedback event whose `queue_size` carries `n`, to tell events apart.
pub(crate) fn event(n: u64) -> FeedbackEvent {
    FeedbackEvent::new(
        "bars-coord",
        n,
        1_000_000,
        BackpressureLevel::Soft,
        1_729_234_567.123,
    )
    .expect("valid event")
}
