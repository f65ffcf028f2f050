//! Sinks as the binary opens them: the store's sink for a URL, optionally behind a rate limit
//! ([`ThrottledSink`]), a fault switch for outage drills ([`FaultSwitchSink`]) and a
//! rejection list for dead-letter drills ([`RejectingSink`]).

mod fault;
mod open;
mod reject;
mod throttle;

pub use fault::{FAULT_FILE_VAR, FaultSwitchSink};
pub use open::{SinkChoice, open};
pub use reject::{REJECT_SYMBOLS_VAR, RejectingSink};
pub use throttle::ThrottledSink;
