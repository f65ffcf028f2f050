//! Reading what the Python originals write (`PULSE_COMPAT=python`): which schema ids are
//! aliases of ours, and which one is market-data-store's envelope wrapped in an envelope.

use core_contracts::Contract;

use crate::config::Compat;

/// The schema id the Python library derives for an `EventEnvelope` published as a payload,
/// which is how market-data-store publishes its feedback: the inner envelope carries the
/// real schema id, headers and payload.
pub const PYTHON_ENVELOPE_SCHEMA_ID: &str = "events.envelope.EventEnvelope";

/// Which compatibility rule let an entry in; counted by `pulse_compat_total{rule}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompatRule {
    /// The schema id was the one the Python library derives for our DTO's class.
    SchemaAlias,
    /// The payload was an envelope of its own (market-data-store's form), read from inside.
    UnwrappedEnvelope,
}

impl CompatRule {
    /// Every rule, in the order metrics list them.
    pub const ALL: [Self; 2] = [Self::SchemaAlias, Self::UnwrappedEnvelope];

    /// The metric label of the rule.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SchemaAlias => "schema_alias",
            Self::UnwrappedEnvelope => "unwrapped_envelope",
        }
    }
}

/// What a schema id means to a reader of `T`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SchemaMatch {
    /// Ours.
    Own,
    /// Another name of ours, under a compatibility rule.
    Alias,
    /// An envelope to unwrap, under a compatibility rule.
    Envelope,
    /// Not something a reader of `T` takes.
    Foreign,
}

/// How `schema_id` is read by a reader of `T` under `compat`.
pub(crate) fn classify<T: Contract>(schema_id: &str, compat: Compat) -> SchemaMatch {
    if schema_id == T::SCHEMA_ID {
        return SchemaMatch::Own;
    }
    if compat != Compat::Python {
        return SchemaMatch::Foreign;
    }
    if T::PYTHON_SCHEMA_ID == Some(schema_id) {
        return SchemaMatch::Alias;
    }
    // A parametrised generic (`EventEnvelope[FeedbackEvent]`) is the same class to pydantic.
    let envelope = schema_id
        .strip_prefix(PYTHON_ENVELOPE_SCHEMA_ID)
        .is_some_and(|rest| rest.is_empty() || (rest.starts_with('[') && rest.ends_with(']')));
    if envelope {
        SchemaMatch::Envelope
    } else {
        SchemaMatch::Foreign
    }
}

#[cfg(test)]
mod tests {
    use core_contracts::{FeedbackEvent, RateAdjustment};

    use super::*;

    #[test]
    fn without_compat_only_our_own_id_is_read() {
        use SchemaMatch::*;
        for (id, none, python) in [
            ("telemetry.FeedbackEvent", Own, Own),
            ("telemetry.backpressure.FeedbackEvent", Foreign, Alias),
            ("events.envelope.EventEnvelope", Foreign, Envelope),
            (
                "events.envelope.EventEnvelope[FeedbackEvent]",
                Foreign,
                Envelope,
            ),
            ("events.envelope.EventEnvelopeX", Foreign, Foreign),
            ("telemetry.backpressure.RateAdjustment", Foreign, Foreign),
            ("telemetry.Other", Foreign, Foreign),
        ] {
            assert_eq!(classify::<FeedbackEvent>(id, Compat::None), none, "{id}");
            assert_eq!(
                classify::<FeedbackEvent>(id, Compat::Python),
                python,
                "{id}"
            );
        }
        assert_eq!(
            classify::<RateAdjustment>("telemetry.backpressure.RateAdjustment", Compat::Python),
            Alias
        );
    }
}
