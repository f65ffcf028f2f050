//! The first run: `mdp run` with no flags plays the demo (a trading day of bursts into a
//! sink held to 2 000 bars/s), falls behind, slows and pauses the pipeline, writes every bar
//! and says so in words.

mod support;

use std::path::Path;
use std::time::Duration;

use clap::Parser;
use mdp::cli::{Cli, Command};
use mdp::run::Summary;
use support::{bars, mdp, output};

/// The in-process bus is one per process: two runs at once in this test binary would hear
/// each other's stores, so they take turns.
static ONE_RUN_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `mdp run ARGS` in this process, on tokio's paused clock.
async fn run_in_process(args: &[&str]) -> Summary {
    let _turn = ONE_RUN_AT_A_TIME.lock().await;
    let cli = Cli::try_parse_from(std::iter::once("mdp").chain(args.iter().copied()))
        .expect("valid arguments");
    let Command::Run(args) = cli.command else {
        panic!("not a run: {args:?}");
    };
    mdp::run::run(args, Duration::from_secs(5))
        .await
        .expect("the run completes")
}

fn sink_flags(dir: &Path) -> [String; 4] {
    [
        "--sink".to_owned(),
        format!("sqlite://{}", dir.join("mdp.db").display()),
        "--dead-letter-file".to_owned(),
        dir.join("dead.ndjson").display().to_string(),
    ]
}

/// On a fake clock the demo's day is exactly its shape against the sink's speed, whatever
/// the machine: the queue fills in the first bursts until the store goes soft and then
/// hard, the pipeline slows down and pauses, and every bar offered is in the sink.
#[tokio::test(start_paused = true)]
async fn the_demo_on_a_fake_clock_goes_soft_and_hard_and_writes_every_bar() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = sink_flags(dir.path());
    let mut args = vec!["run", "--json"];
    args.extend(flags.iter().map(String::as_str));
    let s = run_in_process(&args).await;

    assert_eq!(s.demo_sink_rate, Some(2_000.0), "{s:?}");
    assert_eq!(s.ended_by, "duration", "{s:?}");
    assert!(s.soft_episodes >= 1, "no soft episode: {s:?}");
    assert!(s.hard_episodes >= 1, "no hard episode: {s:?}");
    assert!(s.behind_episodes >= s.soft_episodes, "{s:?}");
    assert!(s.seconds_paused > 0.0, "never paused: {s:?}");
    assert!(s.seconds_slowed > 0.0, "never slowed: {s:?}");
    assert!(s.peak_queue_depth <= s.capacity, "{s:?}");
    assert_eq!(s.final_level, "ok", "{s:?}");
    assert_eq!((s.dropped, s.dead_lettered), (0, 0), "{s:?}");
    assert_eq!(s.written, s.offered, "{s:?}");
    // Twenty seconds of a sink held to 2 000 bars/s write at most 40 000 bars and, with
    // bursts of 4 and 5 times that speed, not much less.
    assert!(
        (25_000..=42_000).contains(&s.offered),
        "offered {}: {s:?}",
        s.offered
    );
    bars::assert_same(
        &bars::source(Some(s.offered), None),
        &bars::sqlite(&dir.path().join("mdp.db")),
    );
}

/// A rate given explicitly turns the demo off: the pipeline runs at that rate into an
/// unthrottled sink, as before.
#[tokio::test(start_paused = true)]
async fn a_rate_given_turns_the_demo_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    let flags = sink_flags(dir.path());
    let mut args = vec!["run", "--json", "--rate", "500", "--duration", "4"];
    args.extend(flags.iter().map(String::as_str));
    let s = run_in_process(&args).await;
    assert_eq!(s.demo_sink_rate, None, "{s:?}");
    assert_eq!(s.behind_episodes, 0, "{s:?}");
    assert_eq!(s.written, s.offered, "{s:?}");
    // 500 bars/s for 4 s, give or take the bucket's first burst (60) and the moment the
    // pipeline holds until it first hears the store; the demo would have asked far more.
    assert!((1_700..=2_100).contains(&s.offered), "{s:?}");
    assert_eq!(s.hard_episodes, 0, "an unthrottled sink keeps up: {s:?}");
}

/// What a newcomer types: `mdp run`, nothing else, in an empty directory. The demo is
/// announced, progress comes as plain lines (stderr is not a terminal here), and the
/// summary says in words what happened, with every bar in `mdp.db`.
#[test]
fn mdp_run_with_no_flags_tells_the_story_of_the_demo() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = mdp();
    cmd.current_dir(dir.path()).arg("run");
    let out = output(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{stdout}");

    let intro = stderr
        .lines()
        .find(|l| l.starts_with("demo:"))
        .unwrap_or_default();
    assert!(
        intro.starts_with("demo: a trading day in 20 s")
            && intro.contains("held to 2 000 bars/s")
            && intro.contains("--rate or --sink-rate"),
        "{stderr}"
    );
    let progress: Vec<&str> = stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert!(progress.len() >= 5, "{stderr}");
    for line in &progress {
        for part in [
            "s] ",
            " bars/s  written ",
            "  queue ",
            "/10000  level ",
            "  scale ",
        ] {
            assert!(line.contains(part), "{line:?} lacks {part:?}");
        }
    }

    assert!(stdout.contains("the store fell behind"), "{stdout}");
    assert!(stdout.contains("; nothing dropped"), "{stdout}");
    assert!(stdout.contains("next: mdp run --port 9090"), "{stdout}");
    let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    let written: u64 = flat
        .split_once("; all ")
        .and_then(|(_, rest)| rest.split_once(" bars are in mdp.db"))
        .map(|(n, _)| n.replace(' ', ""))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no bar count in {stdout}"));
    bars::assert_same(
        &bars::source(Some(written), None),
        &bars::sqlite(&dir.path().join("mdp.db")),
    );
}
