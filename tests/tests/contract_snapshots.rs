//! The JSON of a canonical example of every DTO, and of a whole envelope on each track, is
//! pinned: a change to the wire shape shows up as a snapshot diff.

use core_contracts::{Contract, Track, WireEvent};
use insta::assert_json_snapshot;
use mdp_tests::canonical;

#[test]
fn dto_json_is_pinned() {
    assert_json_snapshot!("feedback_event", canonical::feedback_event());
    assert_json_snapshot!("rate_adjustment", canonical::rate_adjustment());
    assert_json_snapshot!("health_status", canonical::health_status());
    assert_json_snapshot!("health_component", canonical::health_component());
    assert_json_snapshot!("probe", canonical::probe());
    assert_json_snapshot!("control_result", canonical::control_result());
    assert_json_snapshot!("audit_envelope", canonical::audit_envelope());
    assert_json_snapshot!("bar", canonical::bar());
    assert_json_snapshot!("control_command", canonical::control_command());
    assert_json_snapshot!("control_reply", canonical::control_reply());
    assert_json_snapshot!("cluster_topology", canonical::cluster_topology());
}

fn sealed<T: Contract>(payload: &T, track: Track) -> WireEvent<T> {
    WireEvent::seal(payload, Some("bars-coord".into()), canonical::TS, track)
        .expect("canonical payload seals")
        .with_header("utilization", "0.800000")
}

#[test]
fn envelopes_are_pinned_per_track() {
    for track in Track::ALL {
        insta::with_settings!({ snapshot_suffix => track.as_str() }, {
            assert_json_snapshot!("feedback_envelope", sealed(&canonical::feedback_event(), track).into_envelope("1729234567123-0"));
            assert_json_snapshot!("rate_adjustment_envelope", sealed(&canonical::rate_adjustment(), track).into_envelope("1729234567123-1"));
            assert_json_snapshot!("bar_envelope", sealed(&canonical::bar(), track).into_envelope("1729234567123-2"));
            assert_json_snapshot!("cluster_topology_envelope", sealed(&canonical::cluster_topology(), track).into_envelope("1729234567123-3"));
        });
    }
}

#[test]
fn canonical_examples_decode_back_to_themselves() {
    let event = canonical::feedback_event();
    let json = serde_json::to_string(&event).expect("encodes");
    assert_eq!(
        core_contracts::decode::<core_contracts::FeedbackEvent>(&json).expect("decodes"),
        event
    );
    let bar = canonical::bar();
    let json = serde_json::to_string(&bar).expect("encodes");
    assert_eq!(
        core_contracts::decode::<core_contracts::Bar>(&json).expect("decodes"),
        bar
    );
}
