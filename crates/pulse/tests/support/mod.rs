//! Helpers of the pulse tests: the shared test support of the crate (feature `testing`) and
//! a feedback event numbered for telling events apart.

#![allow(dead_code, unused_imports)]

pub(crate) use pulse::testing::{Harness, redis_available, redis_url, test_config, unique_prefix};

pub(crate) mod redis_server {
    //! The private `redis-server` of the shared test support.
    pub(crate) use pulse::testing::RedisServer;
}

use core_contracts::{BackpressureLevel, FeedbackEvent};

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
