//! The Pulse bus for pipeline tests: pulse's shared test support (a harness per backend
//! with its own key prefix, and the local Redis: a failure under `CI=true` when unreachable, a
//! loud skip otherwise).

#![allow(unused_imports)]

pub(crate) use pulse::testing::{Harness, redis_available, redis_url, test_config, unique_prefix};
