//! Stream names: `{namespace}.{name}`, the Redis key with its prefix, the dead-letter
//! stream `{stream}.dlq`, and the retention a stream gets from its name ([`Retention`]):
//! telemetry and control streams are bounded by count, every other stream (data, such as
//! `marketdata.bars`) only ever loses entries every group has acknowledged.

/// The feedback stream, `{ns}.telemetry.feedback`.
pub const FEEDBACK: &str = "telemetry.feedback";
/// The rate adjustment stream, `{ns}.telemetry.rate_adjustment`.
pub const RATE_ADJUSTMENT: &str = "telemetry.rate_adjustment";
/// The bar stream, `{ns}.marketdata.bars`.
pub const BARS: &str = "marketdata.bars";
/// The members' status reports (`HealthStatus`, keyed by member id), `{ns}.telemetry.health`.
pub const HEALTH: &str = "telemetry.health";
/// Operator commands to the members (`ControlCommand`), `{ns}.control.actions`.
pub const CONTROL_ACTIONS: &str = "control.actions";
/// The members' answers to them (`ControlReply`), `{ns}.control.results`.
pub const CONTROL_RESULTS: &str = "control.results";
/// The audit trail of operator commands (`AuditEnvelope`), `{ns}.control.audit`.
pub const CONTROL_AUDIT: &str = "control.audit";
/// The consumer group every store reads [`BARS`] in: each bar goes to one store of it, and
/// the bars stream is trimmed only below what it has acknowledged.
pub const STORE_GROUP: &str = "store";

/// Name prefixes of the streams bounded by count (`MAXLEN ~`); every other stream is a data
/// stream, trimmed only below what its groups still need.
pub const COUNT_BOUNDED_PREFIXES: [&str; 2] = ["telemetry.", "control."];

/// How a stream's size is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Trimmed on publish to about this many entries (`XADD ... MAXLEN ~ n`): telemetry and
    /// control streams, where the newest events matter and old ones may go unread.
    MaxLen(usize),
    /// Never trimmed on publish; only entries below the oldest entry some group still needs
    /// (pending, or not yet delivered) are removed, by
    /// [`EventBus::trim_acknowledged`](crate::EventBus::trim_acknowledged): data streams.
    Acknowledged,
}

/// A stream of the bus, with every name it goes by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamName {
    name: String,
    full: String,
    key: String,
}

impl StreamName {
    /// The stream `name` (e.g. `telemetry.feedback`; a name already starting with
    /// `{namespace}.` is taken as full) in `namespace`, stored under `key_prefix`.
    ///
    /// ```
    /// use pulse::StreamName;
    /// let s = StreamName::new("mdp", "mdp:", "telemetry.feedback");
    /// assert_eq!(s.full(), "mdp.telemetry.feedback");
    /// assert_eq!(s.key(), "mdp:mdp.telemetry.feedback");
    /// assert_eq!(s.dlq_key(), "mdp:mdp.telemetry.feedback.dlq");
    /// assert_eq!(s.label(), "telemetry.feedback");
    /// assert_eq!(StreamName::new("mdp", "", "mdp.marketdata.bars").label(), "marketdata.bars");
    /// ```
    pub fn new(namespace: &str, key_prefix: &str, name: &str) -> Self {
        let name = name
            .strip_prefix(namespace)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(name)
            .to_owned();
        let full = format!("{namespace}.{name}");
        let key = format!("{key_prefix}{full}");
        Self { name, full, key }
    }

    /// The un-namespaced name, used as the `stream` metric label.
    pub fn label(&self) -> &str {
        &self.name
    }

    /// `{namespace}.{name}`.
    pub fn full(&self) -> &str {
        &self.full
    }

    /// The backend key: the key prefix and the full name.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The retention of this stream, decided from its name: [`Retention::MaxLen`] with
    /// `maxlen` (`PULSE_RETENTION_MAXLEN`) for `telemetry.*` and `control.*`,
    /// [`Retention::Acknowledged`] for every other stream.
    ///
    /// ```
    /// use pulse::{Retention, StreamName};
    /// let named = |n| StreamName::new("mdp", "", n);
    /// assert_eq!(named("telemetry.feedback").retention(100), Retention::MaxLen(100));
    /// assert_eq!(named("control.pause").retention(100), Retention::MaxLen(100));
    /// assert_eq!(named("mdp.marketdata.bars").retention(100), Retention::Acknowledged);
    /// ```
    pub fn retention(&self, maxlen: usize) -> Retention {
        if COUNT_BOUNDED_PREFIXES
            .iter()
            .any(|prefix| self.name.starts_with(prefix))
        {
            Retention::MaxLen(maxlen)
        } else {
            Retention::Acknowledged
        }
    }

    /// The backend key of the dead-letter stream.
    pub fn dlq_key(&self) -> String {
        format!("{}.dlq", self.key)
    }
}
