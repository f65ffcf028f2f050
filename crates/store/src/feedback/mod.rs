//! The in-process FeedbackBus of SPEC §4.3: fan-out of `FeedbackEvent`s to subscribers, each
//! behind its own bounded mailbox so that a slow or failing subscriber affects no other and
//! never stalls a queue.

mod attach;
mod bus;
mod mailbox;

pub use attach::{AttachedStats, AttachedSubscriber};
pub use bus::{DEFAULT_SUBSCRIBER_BUFFER, FeedbackBus, SubscriberInfo};
pub use mailbox::Subscription;

use core_contracts::{BackpressureLevel, FeedbackEvent};

/// Something whose current feedback can be read at any time: a coordinator registered on the
/// bus. Heartbeat publishers read it through [`FeedbackBus::current_events`].
pub trait FeedbackSource: Send + Sync {
    /// The source's coordinator id.
    fn coordinator_id(&self) -> &str;
    /// The current level.
    fn current_level(&self) -> BackpressureLevel;
    /// An event stating the current level and queue size, with a fresh sequence number.
    fn current_event(&self) -> FeedbackEvent;
}
