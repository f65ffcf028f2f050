//! How `mdp` starts and fails, as a person at a terminal sees it: the services refuse the
//! in-process bus unless it is chosen, an unusable Redis fails within the startup timeout
//! naming its address and the cause once, no password is ever printed, bad numbers and a bad
//! `RUST_LOG`/`LOG_FORMAT` get a clear message, a bad CSV row ends `mdp run` with its summary
//! (and a JSON error under `--json`) unless `--on-bad-row` says otherwise, and every help text
//! speaks to users.

mod support;

use std::process::{Command, Output};

use support::redis_server::RedisServer;
use support::{free_port, mdp, sqlite_rows};

fn run(mut cmd: Command) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("mdp runs");
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn in_dir(dir: &tempfile::TempDir, args: &[&str]) -> Command {
    let mut cmd = mdp();
    cmd.current_dir(dir.path()).args(args);
    cmd
}

#[test]
fn the_services_and_tools_refuse_the_in_process_bus_unless_it_is_chosen() {
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [
        vec!["store", "--port", "0"],
        vec!["pipeline", "--port", "0", "--bars", "10"],
        vec!["pulse", "stats"],
    ] {
        let (code, _, stderr) = run(in_dir(&dir, &args));
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("EVENT_BUS_BACKEND") && stderr.contains("REDIS_URL"),
            "{args:?} names the variables: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    }
    // Chosen explicitly, the in-process bus is used.
    let mut cmd = in_dir(&dir, &["pulse", "stats"]);
    cmd.env("EVENT_BUS_BACKEND", "inmem");
    let (code, stdout, stderr) = run(cmd);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("mdp.marketdata.bars"), "{stdout}");
}

#[test]
fn all_is_no_member_id_and_ctl_names_what_it_needs() {
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [
        vec![
            "pipeline", "--bus", "inmem", "--port", "0", "--id", "all", "--bars", "1",
        ],
        vec![
            "store",
            "--bus",
            "inmem",
            "--port",
            "0",
            "--coord-id",
            "all",
        ],
    ] {
        let (code, _, stderr) = run(in_dir(&dir, &args));
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(r#""all""#) && stderr.contains("mdp ctl"),
            "{args:?}: {stderr}"
        );
    }
    let mut cmd = in_dir(&dir, &["ctl", "pause"]);
    cmd.env_remove("ADMIN_TOKEN");
    let (code, _, stderr) = run(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("ADMIN_TOKEN is not set"), "{stderr}");
    let mut cmd = in_dir(&dir, &["ctl", "resume", "--url", "127.0.0.1:8080"]);
    cmd.env("ADMIN_TOKEN", "s3cret");
    let (code, _, stderr) = run(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("invalid --url"), "{stderr}");
    let mut cmd = in_dir(
        &dir,
        &[
            "ctl",
            "pause",
            "--url",
            &format!("http://127.0.0.1:{}", support::free_port()),
        ],
    );
    cmd.env("ADMIN_TOKEN", "s3cret");
    let (code, _, stderr) = run(cmd);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach the orchestrator at http://127.0.0.1:"),
        "{stderr}"
    );
}

/// `mdp store` on `url`, waiting at most one second for Redis: the default (10 s) is what a
/// user gets; the test only shortens the wait.
fn store_on(dir: &tempfile::TempDir, url: &str) -> (Option<i32>, String, std::time::Duration) {
    let mut cmd = in_dir(dir, &["store", "--port", "0", "--sink", "memory://"]);
    cmd.env("EVENT_BUS_BACKEND", "redis")
        .env("REDIS_URL", url)
        .env("PULSE_STARTUP_TIMEOUT_MS", "1000");
    let started = std::time::Instant::now();
    let (code, _, stderr) = run(cmd);
    (code, stderr, started.elapsed())
}

fn error_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("mdp: error: "))
        .unwrap_or_else(|| panic!("no error line in: {stderr}"))
}

#[test]
fn an_unreachable_redis_fails_within_the_startup_timeout_naming_its_address_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let (code, stderr, took) = store_on(&dir, &format!("redis://:secretpw@127.0.0.1:{port}/0"));
    assert_eq!(code, Some(1), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains(&format!(
            "cannot reach Redis at 127.0.0.1:{port} (REDIS_URL)"
        )),
        "{line}"
    );
    assert!(line.contains("PULSE_STARTUP_TIMEOUT_MS"), "{line}");
    assert_eq!(
        line.matches("Connection refused").count(),
        1,
        "the cause once: {line}"
    );
    assert!(!stderr.contains("secretpw"), "no password in: {stderr}");
    assert!(took.as_secs_f64() < 8.0, "gave up after {took:?}");

    let (code, stderr, _) = store_on(&dir, "redis://no-such-host.invalid:6379/0");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        error_line(&stderr).contains("cannot reach Redis at no-such-host.invalid:6379"),
        "{stderr}"
    );
}

#[test]
fn a_wrong_redis_password_is_refused_at_once_without_printing_it() {
    let Some(plain) = RedisServer::start() else {
        return;
    };
    drop(plain);
    let server = pulse::testing::RedisServer::start_with(Some("rightpw"), false);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = server.url().replace(":rightpw@", ":wrongpw@");
    let (code, stderr, _) = store_on(&dir, &url);
    assert_eq!(code, Some(1), "{stderr}");
    let line = error_line(&stderr);
    assert!(
        line.contains("refused the login") && line.contains("127.0.0.1:"),
        "{line}"
    );
    assert!(
        !stderr.contains("wrongpw") && !stderr.contains("rightpw"),
        "{stderr}"
    );
}

#[test]
fn a_sink_url_never_shows_its_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stdout, stderr) = run(in_dir(
        &dir,
        &[
            "run",
            "--bars",
            "1",
            "--sink",
            "postgres://user:secretpw@host:notaport/db",
        ],
    ));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(error_line(&stderr).contains("invalid --sink"), "{stderr}");
    assert!(
        !stderr.contains("secretpw") && !stdout.contains("secretpw"),
        "{stderr}"
    );
}

#[test]
fn bad_numbers_and_log_settings_get_a_clear_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (args, says) in [
        (
            vec!["run", "--bars", "-5"],
            "expected a whole number of bars > 0, got \"-5\"",
        ),
        (
            vec!["run", "--bars", "0"],
            "expected a whole number of bars > 0",
        ),
        (
            vec!["run", "--rate", "-1"],
            "expected a number > 0, got \"-1\"",
        ),
        (vec!["run", "--duration", "nan"], "expected a number > 0"),
        (vec!["store", "--listen", "localhost"], "expected IP:PORT"),
    ] {
        let (code, _, stderr) = run(in_dir(&dir, &args));
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("unexpected argument"),
            "{args:?}: {stderr}"
        );
    }
    for (var, value) in [("RUST_LOG", "mdp=loud"), ("LOG_FORMAT", "yaml")] {
        let mut cmd = in_dir(&dir, &["run", "--bars", "1", "--sink", "memory://"]);
        cmd.env(var, value);
        let (code, _, stderr) = run(cmd);
        assert_eq!(code, Some(2), "{var}: {stderr}");
        assert!(
            error_line(&stderr).contains(&format!("invalid {var} \"{value}\"")),
            "{var}: {stderr}"
        );
    }
}

const HEADER: &str = "provider,symbol,resolution,ts,open,high,low,close,volume\n";

/// A CSV of five rows, the third and fifth bad.
fn bad_csv(dir: &tempfile::TempDir) -> String {
    let rows = [
        "ibkr,AAPL,1m,2024-05-01T13:30:00Z,187.25,187.90,187.10,187.80,12000",
        "ibkr,AAPL,1m,2024-05-01T13:31:00Z,187.80,188.10,187.70,188.00,9000",
        "ibkr,AAPL,1m,yesterday,187.80,188.10,187.70,188.00,9000",
        "ibkr,MSFT,1m,2024-05-01T13:31:00Z,410.00,411.00,409.50,410.50,3000",
        "ibkr,MSFT,1m,2024-05-01T13:32:00Z,410.50,x,409.50,410.50,3000",
        "ibkr,MSFT,1m,2024-05-01T13:33:00Z,410.50,411.20,410.10,411.00,2500",
    ];
    let path = dir.path().join("bars.csv");
    std::fs::write(&path, format!("{HEADER}{}\n", rows.join("\n"))).expect("csv written");
    path.display().to_string()
}

/// The closes written to the SQLite file `db`, in key order.
fn closes(db: &std::path::Path) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(db).expect("db");
    let mut stmt = conn
        .prepare("SELECT symbol, ts, CAST(close AS TEXT) FROM bars ORDER BY symbol, ts")
        .expect("query");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

fn run_csv(dir: &tempfile::TempDir, db: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let csv = bad_csv(dir);
    let sink = format!("sqlite://{}", dir.path().join(db).display());
    let mut args = vec![
        "run", "--json", "--rate", "100000", "--csv", &csv, "--sink", &sink,
    ];
    args.extend_from_slice(extra);
    run(in_dir(dir, &args))
}

#[test]
fn a_bad_csv_row_ends_the_run_with_its_summary_and_a_json_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stdout, stderr) = run_csv(&dir, "fail.db", &[]);
    assert_eq!(code, Some(1), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let error = summary["error"].as_str().expect("an error");
    assert!(error.contains("line 4: ts:"), "{error}");
    assert_eq!(summary["written"], 2, "the two rows before it: {summary}");
    assert_eq!(summary["dropped"], 0);
    let written = closes(&dir.path().join("fail.db"));
    assert_eq!(
        written,
        vec![
            (
                "AAPL".into(),
                "2024-05-01T13:30:00.000000000Z".into(),
                "187.80".into()
            ),
            (
                "AAPL".into(),
                "2024-05-01T13:31:00.000000000Z".into(),
                "188.00".into()
            ),
        ],
        "the bars before the bad row, value for value"
    );
    assert!(error_line(&stderr).contains("line 4"), "{stderr}");

    // The text summary too, with the error as its last line.
    let csv = bad_csv(&dir);
    let sink = format!("sqlite://{}", dir.path().join("text.db").display());
    let (code, stdout, _) = run(in_dir(&dir, &["run", "--csv", &csv, "--sink", &sink]));
    assert_eq!(code, Some(1));
    assert!(stdout.contains("bars written"), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.contains("line 4")),
        "{stdout}"
    );
}

#[test]
fn bad_rows_can_be_skipped_or_kept_aside_and_every_good_row_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = |db: &str| closes(&dir.path().join(db));
    let (code, stdout, stderr) = run_csv(&dir, "skip.db", &["--on-bad-row", "skip"]);
    assert_eq!(code, Some(0), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(summary["bad_rows_skipped"], 2, "{summary}");
    assert_eq!(summary["error"], serde_json::Value::Null);
    assert_eq!(summary["written"], 4);
    let expected: Vec<(String, String, String)> = [
        ("AAPL", "2024-05-01T13:30:00.000000000Z", "187.80"),
        ("AAPL", "2024-05-01T13:31:00.000000000Z", "188.00"),
        ("MSFT", "2024-05-01T13:31:00.000000000Z", "410.50"),
        ("MSFT", "2024-05-01T13:33:00.000000000Z", "411.00"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(good("skip.db"), expected);

    let rejected = dir.path().join("rejected.ndjson");
    let file = rejected.display().to_string();
    let (code, stdout, stderr) = run_csv(
        &dir,
        "kept.db",
        &["--on-bad-row", "dead-letter", "--bad-rows-file", &file],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(summary["bad_rows_dead_lettered"], 2, "{summary}");
    assert_eq!(good("kept.db"), expected);
    let kept: Vec<serde_json::Value> = std::fs::read_to_string(&rejected)
        .expect("the bad-rows file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let lines: Vec<u64> = kept.iter().filter_map(|r| r["line"].as_u64()).collect();
    assert_eq!(lines, [4, 6]);
    assert_eq!(
        kept[0]["row"],
        "ibkr,AAPL,1m,yesterday,187.80,188.10,187.70,188.00,9000"
    );
    assert_eq!(sqlite_rows(&dir.path().join("kept.db")), 4);
}

/// `mdp <args> --help`.
fn help(args: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut all = args.to_vec();
    all.push("--help");
    let (code, stdout, stderr) = run(in_dir(&dir, &all));
    assert_eq!(code, Some(0), "{args:?}: {stderr}");
    stdout
}

#[test]
fn every_help_text_speaks_to_users_with_an_example_and_where_settings_are() {
    let top = help(&[]);
    assert!(
        top.contains("backpressure") && top.contains("docs/operations.md"),
        "{top}"
    );
    for args in [
        vec![],
        vec!["run"],
        vec!["store"],
        vec!["pipeline"],
        vec!["pulse"],
        vec!["pulse", "tail"],
        vec!["pulse", "dlq"],
        vec!["pulse", "dlq", "list"],
        vec!["pulse", "dlq", "replay"],
        vec!["pulse", "stats"],
        vec!["replay-dead-letters"],
        vec!["completions"],
    ] {
        let text = help(&args);
        assert!(
            !text.contains('`'),
            "{args:?}: no Markdown in help:\n{text}"
        );
        assert!(!text.contains("wires the crates"), "{args:?}:\n{text}");
    }
    for command in ["run", "store", "pipeline", "pulse", "replay-dead-letters"] {
        let text = help(&[command]);
        assert!(text.contains("Example"), "{command}: an example:\n{text}");
        assert!(
            text.contains("docs/operations.md"),
            "{command}: where settings are:\n{text}"
        );
    }
    assert!(
        help(&["run"]).contains("header"),
        "--csv says a header row is required"
    );
}

#[test]
fn the_version_names_the_commit_and_completions_are_printed_for_each_shell() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, stdout, _) = run(in_dir(&dir, &["--version"]));
    assert_eq!(code, Some(0));
    let expected = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        );
    assert_eq!(
        stdout.trim(),
        format!("mdp {} (commit {expected})", env!("CARGO_PKG_VERSION"))
    );
    for (shell, sign) in [
        ("bash", "_mdp()"),
        ("zsh", "#compdef mdp"),
        ("fish", "complete -c mdp"),
    ] {
        let (code, stdout, stderr) = run(in_dir(&dir, &["completions", shell]));
        assert_eq!(code, Some(0), "{shell}: {stderr}");
        assert!(stdout.contains(sign), "{shell}:\n{stdout}");
        assert!(stdout.contains("replay-dead-letters"), "{shell}");
        assert!(stdout.contains("on-bad-row"), "{shell}");
    }
}
