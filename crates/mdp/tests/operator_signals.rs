//! What an operator watching `mdp store` and `mdp pipeline` gets: each service exports its
//! own metric families, every one from the start, in a form `promtool check metrics` accepts;
//! the store counts the bars it consumes; `LOG_FORMAT=json` logs parse line by line, with the
//! store's periodic summary and its level changes and no Rust debug dumps; and the feedback
//! webhook receives the events of a running store.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use support::matrix::each_track;
use support::world::{LONG, World, all_written, finish, stop};
use support::{free_port, metric, metrics, wait_until};

/// The families of an exposition (`# TYPE` lines) mapped to how many samples each has.
fn families(text: &str) -> BTreeMap<String, usize> {
    let mut families: BTreeMap<String, usize> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .map(|name| (name.to_owned(), 0))
        .collect();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let name = line.split(['{', ' ']).next().unwrap_or_default();
        let family = ["_total", "_bucket", "_sum", "_count", "_created", "_info"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|f| families.contains_key(*f))
            })
            .unwrap_or(name);
        if let Some(n) = families.get_mut(family) {
            *n += 1;
        }
    }
    families
}

/// `promtool check metrics` on `text`: passes, or (without promtool) skips loudly outside CI.
fn promtool_accepts(what: &str, text: &str) {
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        support::unavailable("promtool (Debian package prometheus) is not installed");
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("promtool ran");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The two Pulse metrics in milliseconds keep the names SPEC gives them (and the Python
    // originals' dashboards use); promtool's unit lint on those two names is the one
    // complaint allowed. Anything else fails.
    let allowed = |line: &str| {
        line.trim().is_empty()
            || ["pulse_lag_ms ", "pulse_publish_latency_ms "]
                .iter()
                .any(|name| line.starts_with(name) && line.ends_with("abbreviated units"))
    };
    let problems: Vec<&str> = said.lines().filter(|l| !allowed(l)).collect();
    assert!(
        problems.is_empty() && (out.status.success() || !said.trim().is_empty()),
        "promtool check metrics refused the {what}'s metrics: {said}"
    );
}

/// Checks that every family of `text` has a sample, that the `own` prefixes are there and the
/// `foreign` ones are not.
fn assert_families(what: &str, text: &str, own: &[&str], foreign: &[&str]) {
    let families = families(text);
    let empty: Vec<&String> = families
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(f, _)| f)
        .collect();
    assert!(
        empty.is_empty(),
        "{what}: families without a sample at start: {empty:?}"
    );
    for prefix in own {
        assert!(
            families.keys().any(|f| f.starts_with(prefix)),
            "{what} exports no {prefix}* family: {:?}",
            families.keys()
        );
    }
    for prefix in foreign {
        let theirs: Vec<&String> = families.keys().filter(|f| f.starts_with(prefix)).collect();
        assert!(
            theirs.is_empty(),
            "{what} exports another service's families: {theirs:?}"
        );
    }
    for common in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "mdp_build_info",
    ] {
        assert!(families.contains_key(common), "{what} lacks {common}");
    }
    assert!(
        text.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{what}: mdp_build_info names the version"
    );
}

/// An HTTP server on a free port that answers 200 to every request and keeps the bodies.
fn webhook_receiver() -> (u16, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bound");
    let port = listener.local_addr().expect("addr").port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&bodies);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok()
                && let Ok(value) = serde_json::from_slice(&body)
            {
                kept.lock().expect("lock").push(value);
            }
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (port, bodies)
}

#[test]
fn each_service_exports_its_own_families_from_the_start_and_logs_what_it_does() {
    each_track(|track| {
        // The world's tuned timings (a queue of 1000, heartbeats every 0.3 s) let a sink held to
        // 2000 bars/s go hard within seconds; the services' own settings are the defaults.
        let Some(world) = World::new(track) else {
            return;
        };
        let (hook_port, hooked) = webhook_receiver();
        let endpoint = format!("http://127.0.0.1:{hook_port}/feedback");
        let store_port = free_port();
        // A summary every second (the default is 30 s) so that a short run shows several.
        let mut store = world.store_at(
            "store-a",
            store_port,
            &["--sink-rate", "2000", "--log-summary-every", "1"],
            &[
                ("LOG_FORMAT", "json"),
                ("MDS_FB_ENABLE_HTTP_BROADCAST", "true"),
                ("MDS_FB_HTTP_ENDPOINT", endpoint.as_str()),
            ],
        );
        let mut at_start = String::new();
        assert!(
            wait_until(LONG, || {
                at_start = metrics(store_port);
                !at_start.is_empty()
            }),
            "the store never served /metrics:\n{}",
            store.log()
        );
        assert_families(
            "store",
            &at_start,
            &["mds_coord_", "mds_worker_", "sink_", "mdp_store_", "pulse_"],
            &["pipeline_", "mdp_pipeline_", "feedback_events_processed"],
        );
        promtool_accepts("store", &at_start);

        let pipeline_port = free_port();
        let mut pipeline = world.pipeline_at(
            "pipeline",
            pipeline_port,
            &["--bars", "6000", "--rate", "20000"],
            &[],
        );
        let mut first = String::new();
        assert!(
            wait_until(LONG, || {
                first = metrics(pipeline_port);
                !first.is_empty()
            }),
            "the pipeline never served /metrics:\n{}",
            pipeline.log()
        );
        assert_families(
            "pipeline",
            &first,
            &[
                "pipeline_",
                "mdp_pipeline_",
                "pulse_",
                "feedback_events_processed",
            ],
            &["mds_", "sink_", "mdp_store_"],
        );
        promtool_accepts("pipeline", &first);

        finish(&mut pipeline);
        all_written(&world, 6000, &[&store]);
        let consumed = format!(
            "pulse_consume_total{{stream=\"marketdata.bars\",track=\"{track}\",outcome=\"success\"}}"
        );
        assert!(
            wait_until(LONG, || metric(&metrics(store_port), &consumed, "")
                == Some(6000.0)),
            "the store counts the bars it consumed: {:?}",
            metric(&metrics(store_port), &consumed, "")
        );
        promtool_accepts("store after a run", &metrics(store_port));
        assert!(
            wait_until(LONG, || store.log().contains("\"store summary\"")),
            "no summary:\n{}",
            store.log()
        );
        stop(&mut store);

        let log = store.log();
        let mut messages = BTreeSet::new();
        let mut summaries = Vec::new();
        let mut changes = Vec::new();
        for line in log.lines().filter(|l| !l.trim().is_empty()) {
            let entry: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
            for key in ["timestamp", "level", "target", "fields"] {
                assert!(entry.get(key).is_some(), "{key} missing: {line}");
            }
            for dump in ["Stats {", "Report {", "Some(", "{ secs", "Duration"] {
                assert!(!line.contains(dump), "a debug dump in the log: {line}");
            }
            let fields = &entry["fields"];
            let message = fields["message"].as_str().unwrap_or_default().to_owned();
            match message.as_str() {
                "store summary" => summaries.push(fields.clone()),
                "store level changed" => changes.push(fields.clone()),
                _ => {}
            }
            messages.insert(message);
        }
        assert!(messages.contains("store started"), "{messages:?}");
        assert!(!summaries.is_empty(), "{messages:?}");
        for summary in &summaries {
            for key in ["written", "rate_per_sec", "level", "queue", "backlog"] {
                assert!(summary.get(key).is_some(), "{key} missing in {summary}");
            }
        }
        assert!(
            summaries
                .iter()
                .any(|s| s["written"].as_u64().is_some_and(|w| w > 0)),
            "{summaries:?}"
        );
        assert!(
            changes.iter().any(|c| c["level"] == "hard"),
            "the store went hard and said so at INFO: {changes:?}"
        );

        let hooked = hooked.lock().expect("lock").clone();
        assert!(
            hooked
                .iter()
                .any(|e| e["level"] == "hard" && e["coordinator_id"] == "store-a"),
            "the webhook got the store's hard event: {hooked:?}"
        );
        for event in &hooked {
            for key in [
                "coordinator_id",
                "queue_size",
                "capacity",
                "level",
                "utilization",
                "ts",
            ] {
                assert!(event.get(key).is_some(), "{key} missing in {event}");
            }
        }
    });
}
