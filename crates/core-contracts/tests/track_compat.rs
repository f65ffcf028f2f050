//! Every v2 schema is a backward-compatible change of its v1 schema.

use core_contracts::schema::{breaking_changes, track_pairs};

#[test]
fn every_v2_schema_is_backward_compatible_with_v1() {
    let pairs = track_pairs();
    assert_eq!(pairs.len(), 5, "every bus contract is checked");
    for (schema_id, v1, v2) in pairs {
        let changes = breaking_changes(&v1, &v2);
        assert!(
            changes.is_empty(),
            "{schema_id}: v2 breaks v1: {changes:#?}"
        );
    }
}

#[test]
fn v1_is_not_a_compatible_change_of_v2_where_v2_added_fields() {
    let broken: Vec<_> = track_pairs()
        .into_iter()
        .filter(|(_, v1, v2)| !breaking_changes(v2, v1).is_empty())
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(
        broken,
        ["telemetry.FeedbackEvent", "telemetry.RateAdjustment"]
    );
}
