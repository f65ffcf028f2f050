//! The Python originals (market-data-core 1.4.61) read what the orchestrator writes: its
//! `ClusterTopology` on v1 is their `federation.status.ClusterTopology` (validated by their
//! model, hashed as their codec hashes it, and their dump decodes back to ours), and an
//! `AuditEnvelope` of pause or resume is theirs too (the `target` we add is an extra field
//! they ignore). An audit of `set_rate`, an action they do not know, is refused by their
//! model: a limit of the Python side, documented in docs/operations.md.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use core_contracts::{
    AuditEnvelope, ClusterTopology, Contract, ControlAction, ControlResult, ControlStatus, Track,
    decode, payload_hash,
};
use pulse::testing::PythonPeer;
use serde_json::{Value, json};

/// One answer of `mdp_interop.py hash` per request.
fn python(peer: &PythonPeer, requests: &[Value]) -> Vec<Value> {
    let mut child = peer
        .command(&["hash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut stdin = child.stdin.take().expect("stdin");
    for request in requests {
        writeln!(stdin, "{request}").expect("python reads");
    }
    drop(stdin);
    let answers = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|line| serde_json::from_str(&line.expect("reads")).expect("a JSON answer"))
        .collect();
    assert!(
        child.wait().expect("python ends").success(),
        "python failed"
    );
    answers
}

/// Python validated `ours`, hashed it as we do, and its dump decodes back to `ours`.
fn read_alike<T: Contract + PartialEq + std::fmt::Debug>(ours: &T, answer: &Value) {
    assert!(answer.get("error").is_none(), "pydantic refused: {answer}");
    let dump = answer["dump"].as_str().expect("a dump");
    let theirs: T = decode(dump).expect("their dump decodes");
    assert_eq!(&theirs, ours);
    let wire: Value = serde_json::from_str(answer["wire"].as_str().expect("wire")).expect("JSON");
    let ours_json = serde_json::to_value(ours).expect("encodes");
    assert_eq!(
        wire["meta"]["hash"].as_str(),
        Some(payload_hash(&ours_json).expect("hashes").as_str()),
        "the hash of their codec"
    );
}

fn audit(action: ControlAction, target: Option<&str>) -> AuditEnvelope {
    AuditEnvelope {
        actor: "ops@example.invalid".into(),
        role: "admin".into(),
        action,
        result: ControlResult {
            status: ControlStatus::Ok,
            detail: Some("4 of 4 members answered ok".into()),
        },
        ts: 1_729_234_567.123,
        target: target.map(str::to_owned),
    }
}

#[test]
fn the_python_originals_read_the_orchestrators_topology_and_audits() {
    let Some(peer) = PythonPeer::find() else {
        return;
    };
    let recorded: ClusterTopology =
        decode(include_str!("../../mdp/tests/fixtures/topology.json")).expect("decodes");
    let v1 = recorded.for_track(Track::V1);
    assert!(
        v1.stores.is_empty() && v1.health.is_none(),
        "v1 is the Python shape"
    );
    let with_target = audit(ControlAction::Pause, Some("all"));
    let requests = [
        json!({"model": "topology", "payload": v1}),
        json!({"model": "audit", "payload": audit(ControlAction::Resume, None)}),
        json!({"model": "audit", "payload": with_target}),
        json!({"model": "audit", "payload": audit(ControlAction::SetRate, Some("all"))}),
    ];
    let answers = python(&peer, &requests);
    assert_eq!(answers.len(), requests.len(), "one answer each");
    read_alike(&v1, &answers[0]);
    read_alike(&audit(ControlAction::Resume, None), &answers[1]);
    // their model drops the target it does not know
    let dump = answers[2]["dump"].as_str().expect("a dump");
    let theirs: AuditEnvelope = decode(dump).expect("decodes");
    assert_eq!(theirs, audit(ControlAction::Pause, None));
    let error = answers[3]["error"].as_str().expect("set_rate refused");
    assert!(error.contains("action"), "{error}");
}
