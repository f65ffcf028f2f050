//! Stream names: `{namespace}.{name}`, the Redis key with its prefix, and the dead-letter
//! stream `{stream}.dlq`.

/// The feedback stream, `{ns}.telemetry.feedback`.
pub const FEEDBACK: &str = "telemetry.feedback";
/// The rate adjustment stream, `{ns}.telemetry.rate_adjustment`.
pub const RATE_ADJUSTMENT: &str = "telemetry.rate_adjustment";
/// The bar stream, `{ns}.marketdata.bars`.
pub const BARS: &str = "marketdata.bars";

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

    /// The backend key of the dead-letter stream.
    pub fn dlq_key(&self) -> String {
        format!("{}.dlq", self.key)
    }
}
