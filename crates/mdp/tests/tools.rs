//! The operator tools: `mdp pulse stats|tail|dlq` against a private Redis, and
//! `mdp replay-dead-letters` into SQLite.

mod support;

use std::process::Command;

use pipeline::source::SyntheticSource;
use store::dead_letter::DeadLetterRecord;
use support::redis_server::RedisServer;
use support::{mdp, output, sqlite_rows};

fn stdout(cmd: Command) -> String {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pulse_tools_show_what_a_pipeline_published() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let with_redis = |args: &[&str]| {
        let mut cmd = mdp();
        cmd.current_dir(dir.path())
            .env("EVENT_BUS_BACKEND", "redis")
            .env("REDIS_URL", redis.url())
            .args(args);
        cmd
    };
    // Named: no store runs here, and the default holds a pipeline until a store is heard.
    let mut pipeline = with_redis(&[
        "pipeline", "--port", "0", "--bars", "120", "--rate", "10000",
    ]);
    pipeline.env("MDP_FB_WHEN_NO_STORE", "ok");
    stdout(pipeline);
    let stats = stdout(with_redis(&["pulse", "stats"]));
    let bars = stats
        .lines()
        .find(|l| l.starts_with("mdp.marketdata.bars "))
        .unwrap_or_else(|| panic!("no bars line in\n{stats}"));
    assert_eq!(bars.split_whitespace().nth(1), Some("120"), "{stats}");
    let tail = stdout(with_redis(&[
        "pulse",
        "tail",
        "marketdata.bars",
        "--last",
        "5",
        "--count",
        "5",
    ]));
    assert_eq!(tail.lines().count(), 5, "{tail}");
    for line in tail.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).expect("json line");
        assert_eq!(
            entry["data"]["meta"]["schema_id"], "marketdata.Bar",
            "{line}"
        );
    }
    let dlq = stdout(with_redis(&["pulse", "dlq", "list", "marketdata.bars"]));
    assert_eq!(dlq.lines().count(), 0, "{dlq}");
    let replayed = stdout(with_redis(&["pulse", "dlq", "replay", "marketdata.bars"]));
    assert!(replayed.contains("replayed 0"), "{replayed}");
}

#[test]
fn replay_dead_letters_writes_the_bars_and_empties_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("dead.ndjson");
    let bars: Vec<_> = SyntheticSource::new("ibkr", vec!["AAPL".into()], "1m", 7)
        .expect("source")
        .take(25)
        .collect();
    let record = DeadLetterRecord::new("c", "sink down", "transient", 5, bars, 1.0);
    let line = serde_json::to_string(&record).expect("record encodes");
    std::fs::write(&file, format!("{line}\n")).expect("writes");
    let db = dir.path().join("bars.db");
    let mut cmd = mdp();
    cmd.current_dir(dir.path())
        .arg("replay-dead-letters")
        .arg(&file)
        .arg("--sink")
        .arg(format!("sqlite://{}", db.display()));
    let out = stdout(cmd);
    assert!(out.contains("25 bars"), "{out}");
    assert_eq!(sqlite_rows(&db), 25);
    assert!(!file.exists(), "a fully replayed file is removed");

    let mut missing = mdp();
    missing
        .current_dir(dir.path())
        .args(["replay-dead-letters", "nope.ndjson"]);
    let out = output(missing);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.ndjson"));
}
