//! The Redis Streams backend: `XADD` (with `MAXLEN ~` for count-bounded streams only),
//! `XTRIM MINID ~` below what the groups still need (from `XINFO GROUPS` and `XPENDING`),
//! consumer groups created from `0` with `MKSTREAM`, `XREADGROUP` on a connection of the
//! reader's own, `XAUTOCLAIM` of idle entries continuing from its cursor, a Lua script that
//! refreshes (`XCLAIM ... JUSTID`) only entries the consumer still owns, and a dead-letter
//! stream written atomically with the `XACK` of the original. Replies are read as bytes:
//! field names and values are never decoded.
//!
//! - `bus`: [`RedisStreamsBus`], the [`EventBus`](crate::EventBus) (publish, trim,
//!   backlog, groups, ack, fail and the dead-letter stream).
//! - `reader`: the [`StreamReader`](crate::StreamReader) of one consumer (`XREADGROUP`,
//!   `XREAD`, `XAUTOCLAIM`) on a connection of its own.
//! - `reply`: pure functions turning Redis replies into entries, group positions and counts.
//! - `connection`: opening clients and connections, and the bound on every command.

mod bus;
mod connection;
mod reader;
// Public for the property tests; it speaks `redis::Value`, so it is not part of the crate's
// stable API.
#[doc(hidden)]
pub mod reply;

pub use bus::RedisStreamsBus;
