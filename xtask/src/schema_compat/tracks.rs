//! Every v2 schema must be a compatible change of its v1 schema.

use core_contracts::schema::track_pairs;

use super::finding::Severity;
use super::judge::{Entry, judge_schema};

/// The breaking and not understood differences from each contract's v1 schema to its v2
/// schema; empty when v2 only adds what v1 readers tolerate.
pub(crate) fn v2_against_v1() -> Vec<Entry> {
    track_pairs()
        .into_iter()
        .flat_map(|(schema_id, v1, v2)| judge_schema(&format!("v1 to v2 of {schema_id}"), &v1, &v2))
        .filter(|entry| entry.severity > Severity::Compatible)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_v2_schema_is_a_compatible_change_of_v1() {
        assert_eq!(track_pairs().len(), 8, "every bus contract is checked");
        let entries = v2_against_v1();
        assert!(entries.is_empty(), "{entries:#?}");
    }

    #[test]
    fn v1_is_not_a_compatible_change_of_v2_where_v2_added_fields() {
        let broken: Vec<_> = track_pairs()
            .into_iter()
            .filter(|(id, v1, v2)| {
                judge_schema(id, v2, v1)
                    .iter()
                    .any(|e| e.severity == Severity::Breaking)
            })
            .map(|(id, _, _)| id)
            .collect();
        assert_eq!(
            broken,
            [
                "telemetry.FeedbackEvent",
                "telemetry.RateAdjustment",
                "telemetry.ClusterTopology"
            ]
        );
    }
}
