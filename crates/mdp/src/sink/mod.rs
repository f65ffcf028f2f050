//! Sinks as the binary opens them: the store's sink for a URL, optionally behind a rate limit
//! ([`ThrottledSink`]) and a fault switch for outage drills ([`FaultSwitchSink`]).

mod fault;
mod open;
mod throttle;

pub use fault::{FAULT_FILE_VAR, FaultSwitchSink};
pub use open::{SinkChoice, open};
pub use throttle::ThrottledSink;
