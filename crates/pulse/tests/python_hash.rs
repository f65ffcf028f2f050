//! The payload hash against the Python original itself: generated payloads (text from every
//! Unicode plane with control characters and escapes, floats of every magnitude) go to
//! market-data-core's `JsonCodec.encode`; its `model_dump_json()` must equal our bytes, its
//! `meta.hash` our hash, and its wire output must decode here under strict enforcement with
//! the payload intact. The seed is fixed (`MDP_PROPTEST_SEED` picks another).

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use core_contracts::pydantic_json::to_pydantic_json;
use core_contracts::{BackpressureLevel, FeedbackEvent, RateAdjustment, payload_hash};
use pulse::codec::{DecodeRules, decode};
use pulse::testing::PythonPeer;
use pulse::{Compat, Enforcement};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const CASES: usize = 1500;

/// Characters drawn from ranges that stress a JSON writer differently.
fn char_from(rng: &mut StdRng) -> char {
    let (lo, hi) = match rng.random_range(0..10) {
        0 => (0x00, 0x1f),          // C0 controls: escaped
        1 => (0x20, 0x7f),          // ASCII with `"`, `\` and DEL
        2 => (0x80, 0x9f),          // C1 controls: raw
        3 => (0xa0, 0x7ff),         // two-byte UTF-8
        4 => (0x2000, 0x206f),      // punctuation with U+2028/U+2029
        5 => (0x800, 0xd7ff),       // rest of the BMP below the surrogates
        6 => (0xe000, 0xffff),      // private use, U+FEFF, non-characters
        7 => (0x1_0000, 0x1_ffff),  // plane 1: emoji
        8 => (0x2_0000, 0x3_ffff),  // planes 2 and 3: CJK
        _ => (0xe_0000, 0x10_ffff), // planes 14 to 16: tags, private use
    };
    char::from_u32(rng.random_range(lo..=hi)).unwrap_or('\u{fffd}')
}

/// Up to 23 characters; with `min > 0`, one at least that is not white space (our contracts
/// read a blank id as empty).
fn text(rng: &mut StdRng, min: usize) -> String {
    let len = rng.random_range(min..24);
    let mut text: String = (0..len).map(|_| char_from(rng)).collect();
    if min > 0 && text.trim().is_empty() {
        text.push('x');
    }
    text
}

/// A finite float: raw bits (every magnitude), decimal values around the points where the
/// notation switches, integers written as floats, and the edge values.
fn float(rng: &mut StdRng) -> f64 {
    loop {
        let x = match rng.random_range(0..4) {
            0 => f64::from_bits(rng.random()),
            1 => {
                let mantissa: f64 = rng.random_range(1.0..10.0);
                let digits = 10f64.powi(rng.random_range(0..17));
                (mantissa * digits).round() / digits * 10f64.powi(rng.random_range(-30..30))
            }
            2 => rng.random_range(0u64..1 << 60) as f64,
            _ => [
                0.0,
                -0.0,
                1.0,
                100.0,
                0.00005,
                1e-7,
                1e15,
                1e16,
                1e17,
                123_456_789_012_345_680.0,
                f64::MAX,
                f64::MIN_POSITIVE,
                5e-324,
                f64::EPSILON,
            ][rng.random_range(0..14)],
        };
        if x.is_finite() {
            return if rng.random() { x } else { -x };
        }
    }
}

fn level(rng: &mut StdRng) -> BackpressureLevel {
    [
        BackpressureLevel::Ok,
        BackpressureLevel::Soft,
        BackpressureLevel::Hard,
    ][rng.random_range(0..3)]
}

enum Case {
    Feedback(FeedbackEvent),
    Rate(RateAdjustment),
    Probe(Value),
}

impl Case {
    fn generate(rng: &mut StdRng) -> Self {
        match rng.random_range(0..3) {
            0 => {
                let (queue_bits, capacity_bits) =
                    (rng.random_range(0..64), rng.random_range(0..64));
                let mut event = FeedbackEvent::new(
                    text(rng, 1),
                    rng.random_range(0..=u64::MAX >> queue_bits),
                    rng.random_range(1..=u64::MAX >> capacity_bits),
                    level(rng),
                    float(rng).abs(),
                )
                .expect("a valid event");
                event.source = text(rng, 1);
                Self::Feedback(event)
            }
            1 => {
                let scale = match rng.random_range(0..3) {
                    0 => float(rng).abs().min(1.0),
                    1 => rng.random_range(0.0..=1.0),
                    _ => 10f64.powi(-rng.random_range(0..320)),
                };
                Self::Rate(
                    RateAdjustment::new(text(rng, 1), scale, level(rng), float(rng).abs())
                        .expect("a valid adjustment"),
                )
            }
            _ => Self::Probe(json!({
                "text": text(rng, 0),
                "number": float(rng),
                "numbers": (0..rng.random_range(0..6)).map(|_| float(rng)).collect::<Vec<_>>(),
            })),
        }
    }

    fn model(&self) -> &'static str {
        match self {
            Self::Feedback(_) => "feedback",
            Self::Rate(_) => "rate",
            Self::Probe(_) => "probe",
        }
    }

    fn payload(&self) -> Value {
        match self {
            Self::Feedback(e) => serde_json::to_value(e),
            Self::Rate(a) => serde_json::to_value(a),
            Self::Probe(v) => Ok(v.clone()),
        }
        .expect("serializes")
    }

    /// Our bytes and hash of the payload, as the typed value (what mdp writes).
    fn ours(&self) -> (String, String) {
        let bytes = match self {
            Self::Feedback(e) => to_pydantic_json(e),
            Self::Rate(a) => to_pydantic_json(a),
            Self::Probe(v) => to_pydantic_json(v),
        }
        .expect("serializes");
        let hash = core_contracts::sha256_hex(&bytes);
        (String::from_utf8(bytes).expect("utf-8"), hash)
    }

    /// Decodes Python's wire output strictly and checks the payload came through intact.
    fn decodes_intact(&self, wire: &str) -> Result<(), String> {
        let rules = DecodeRules {
            enforcement: Enforcement::Strict,
            max_bytes: usize::MAX,
            compat: Compat::None,
        };
        match self {
            Self::Feedback(e) => {
                let got = decode::<FeedbackEvent>(wire, rules).map_err(|r| r.to_string())?;
                (got.hash_ok && got.event.payload == *e)
                    .then_some(())
                    .ok_or_else(|| format!("decoded as {:?}", got.event.payload))
            }
            Self::Rate(a) => {
                let got = decode::<RateAdjustment>(wire, rules).map_err(|r| r.to_string())?;
                (got.hash_ok && got.event.payload == *a)
                    .then_some(())
                    .ok_or_else(|| format!("decoded as {:?}", got.event.payload))
            }
            Self::Probe(_) => Ok(()),
        }
    }
}

/// Sends every request to one `mdp_interop.py hash` and returns its answers in order.
fn python_encodes(peer: &PythonPeer, requests: Vec<Value>) -> Vec<Value> {
    let mut child = peer
        .command(&["hash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        for request in requests {
            writeln!(stdin, "{request}").expect("python reads");
        }
    });
    let answers: Vec<Value> = BufReader::new(child.stdout.take().expect("stdout"))
        .lines()
        .map(|line| serde_json::from_str(&line.expect("reads")).expect("a JSON answer"))
        .collect();
    writer.join().expect("writer ends");
    assert!(
        child.wait().expect("python ends").success(),
        "python failed"
    );
    answers
}

fn check(case: &Case, answer: &Value) -> Result<(), String> {
    let (bytes, hash) = case.ours();
    if let Some(error) = answer.get("error") {
        return Err(format!("pydantic rejected the payload: {error}"));
    }
    let dump = answer["dump"].as_str().ok_or("no dump")?;
    if dump != bytes {
        return Err(format!("model_dump_json {dump}\n           ours {bytes}"));
    }
    let wire = answer["wire"].as_str().ok_or("no wire")?;
    let sent: Value = serde_json::from_str(wire).map_err(|e| e.to_string())?;
    if sent["meta"]["hash"] != hash.as_str() {
        return Err(format!("hash {} ours {hash}", sent["meta"]["hash"]));
    }
    if payload_hash(&sent["payload"]).map_err(|e| e.to_string())? != hash {
        return Err("the payload as Python sent it hashes differently".into());
    }
    case.decodes_intact(wire)
}

#[test]
fn every_generated_payload_hashes_as_the_python_codec_hashes_it() {
    let Some(peer) = PythonPeer::find() else {
        return;
    };
    let seed = std::env::var("MDP_PROPTEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6d64_7031_u64);
    let mut rng = StdRng::seed_from_u64(seed);
    let cases: Vec<Case> = (0..CASES).map(|_| Case::generate(&mut rng)).collect();
    let requests = cases
        .iter()
        .map(|c| json!({"model": c.model(), "payload": c.payload()}))
        .collect();
    let answers = python_encodes(&peer, requests);
    assert_eq!(answers.len(), cases.len(), "one answer per payload");
    let failures: Vec<String> = cases
        .iter()
        .zip(&answers)
        .enumerate()
        .filter_map(|(i, (case, answer))| {
            check(case, answer)
                .err()
                .map(|why| format!("case {i}: {why}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {CASES} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(5)].join("\n")
    );
}

#[test]
fn a_string_of_every_unicode_scalar_value_hashes_as_python_hashes_it() {
    let Some(peer) = PythonPeer::find() else {
        return;
    };
    let every: String = (0..=0x10_ffff).filter_map(char::from_u32).collect();
    assert_eq!(
        every.chars().count(),
        0x11_0000 - 0x800,
        "all but the surrogates"
    );
    let case = Case::Probe(json!({"text": every, "number": -0.0, "numbers": []}));
    let answers = python_encodes(
        &peer,
        vec![json!({"model": "probe", "payload": case.payload()})],
    );
    assert_eq!(answers.len(), 1);
    if let Err(why) = check(&case, &answers[0]) {
        panic!("{}", why.chars().take(2000).collect::<String>());
    }
}
