//! `mdp store` and `mdp pipeline` as real processes over a private Redis: the feedback loop,
//! a store killed with SIGKILL while another store of the group takes over, a pipeline
//! killed and restarted, Redis restarted mid-run, and a sink outage. Every bar ends up in
//! the database exactly once.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use support::redis_server::RedisServer;
use support::{Proc, free_port, http_get, mdp, metric, sqlite_rows, wait_until};

const LONG: Duration = Duration::from_secs(60);

/// One test's world: a private Redis, a temp dir with the SQLite database, fast timings.
struct World {
    redis: RedisServer,
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl World {
    fn new() -> Option<Self> {
        let redis = RedisServer::start()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("bars.db");
        Some(Self { redis, dir, db })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = mdp();
        cmd.current_dir(self.dir.path())
            .env("EVENT_BUS_BACKEND", "redis")
            .env("REDIS_URL", self.redis.url())
            .env("MDS_FB_HEARTBEAT_SEC", "0.3")
            .env("MDP_FB_HEARTBEAT_SEC", "0.3")
            .env("MDP_FB_FORGET_AFTER_SEC", "2")
            .env("PULSE_IDLE_TIMEOUT_MS", "1000")
            .env("PULSE_BLOCK_MS", "100")
            .env("MDS_COORDINATOR_CAPACITY", "1000")
            .env("MDS_COORDINATOR_BATCH_SIZE", "200")
            .env("MDS_COORDINATOR_FLUSH_INTERVAL", "0.05")
            .args(args);
        cmd
    }

    fn store(&self, name: &str, extra: &[&str], env: &[(&str, &str)]) -> Proc {
        let sink = format!("sqlite://{}", self.db.display());
        let mut cmd = self.command(&["store", "--port", "0", "--consumer", name, "--sink", &sink]);
        cmd.args(extra).envs(env.iter().copied());
        Proc::spawn(name, cmd, self.dir.path())
    }

    fn pipeline(&self, name: &str, args: &[&str]) -> Proc {
        let checkpoint = self.dir.path().join("pipeline.checkpoint");
        let mut cmd = self.command(&["pipeline", "--checkpoint"]);
        cmd.arg(checkpoint).args(args);
        Proc::spawn(name, cmd, self.dir.path())
    }

    fn rows(&self) -> u64 {
        sqlite_rows(&self.db)
    }

    fn wait_rows(&self, n: u64, timeout: Duration) -> bool {
        wait_until(timeout, || self.rows() >= n)
    }
}

fn finish(pipeline: &mut Proc) {
    assert_eq!(
        pipeline.wait_exit(LONG),
        Some(true),
        "pipeline did not finish well:\n{}",
        pipeline.log()
    );
}

fn all_written(world: &World, n: u64, stores: &[&Proc]) {
    let done = wait_until(LONG, || world.rows() >= n);
    let logs: Vec<String> = stores.iter().map(|s| s.log()).collect();
    assert!(
        done,
        "{} of {n} rows; logs:\n{}",
        world.rows(),
        logs.join("\n")
    );
    assert_eq!(world.rows(), n, "every bar exactly once");
}

fn stop(store: &mut Proc) {
    let log = store.log();
    assert!(
        store.terminate(Duration::from_secs(20)),
        "{} did not stop cleanly:\n{log}",
        store.name
    );
}

#[test]
fn a_slow_store_slows_the_pipeline_over_redis_and_every_bar_is_written() {
    let Some(world) = World::new() else { return };
    let mut store = world.store("store-a", &["--sink-rate", "2000"], &[]);
    let mut pipeline = world.pipeline(
        "pipeline",
        &["--port", "0", "--bars", "4000", "--rate", "20000"],
    );
    finish(&mut pipeline);
    all_written(&world, 4000, &[&store]);
    assert!(
        pipeline.log().contains("level=\"hard\""),
        "the pipeline never went hard:\n{}",
        pipeline.log()
    );
    stop(&mut store);
}

#[test]
fn a_store_killed_mid_run_is_taken_over_by_another_store_of_the_group() {
    let Some(world) = World::new() else { return };
    let mut a = world.store("store-a", &["--sink-rate", "1500"], &[]);
    let mut b = world.store("store-b", &["--sink-rate", "1500"], &[]);
    let mut pipeline = world.pipeline(
        "pipeline",
        &["--port", "0", "--bars", "6000", "--rate", "20000"],
    );
    assert!(world.wait_rows(1500, LONG), "no progress:\n{}", a.log());
    a.kill9();
    finish(&mut pipeline);
    all_written(&world, 6000, &[&b]);
    stop(&mut b);
}

#[test]
fn a_pipeline_killed_and_restarted_resumes_after_what_it_published() {
    let Some(world) = World::new() else { return };
    let mut store = world.store("store-a", &[], &[]);
    let args = ["--port", "0", "--bars", "5000", "--rate", "2500"];
    let mut first = world.pipeline("pipeline-1", &args);
    assert!(world.wait_rows(1000, LONG), "no progress:\n{}", first.log());
    first.kill9();
    let mut second = world.pipeline("pipeline-2", &args);
    finish(&mut second);
    all_written(&world, 5000, &[&store]);
    let resumed = second.log().lines().find_map(|l| {
        l.split("resumed_after=")
            .nth(1)?
            .split(' ')
            .next()?
            .parse::<u64>()
            .ok()
    });
    assert!(
        resumed.is_some_and(|n| n >= 1000),
        "did not resume:\n{}",
        second.log()
    );
    stop(&mut store);
}

#[test]
fn both_sides_reconnect_after_redis_restarts_and_nothing_is_lost() {
    let Some(mut world) = World::new() else {
        return;
    };
    let mut store = world.store("store-a", &[], &[]);
    let mut pipeline = world.pipeline(
        "pipeline",
        &["--port", "0", "--bars", "6000", "--rate", "3000"],
    );
    assert!(world.wait_rows(1000, LONG), "no progress:\n{}", store.log());
    world.redis.restart();
    finish(&mut pipeline);
    all_written(&world, 6000, &[&store]);
    stop(&mut store);
}

#[test]
fn a_sink_outage_opens_the_breaker_pauses_the_pipeline_and_writing_resumes() {
    let Some(world) = World::new() else { return };
    let fault = world.dir.path().join("sink.fault");
    let fault_var = fault.display().to_string();
    let mut store = world.store(
        "store-a",
        &[],
        &[
            ("MDP_SINK_FAULT_FILE", fault_var.as_str()),
            ("MDS_CB_FAILURE_THRESHOLD", "2"),
            ("MDS_CB_HALF_OPEN_AFTER_SEC", "0.3"),
            ("MDS_RETRY_MAX_ATTEMPTS", "100000"),
            ("MDS_RETRY_MAX_BACKOFF_MS", "100"),
        ],
    );
    let port = free_port().to_string();
    let mut pipeline = world.pipeline(
        "pipeline",
        &["--port", &port, "--bars", "4000", "--rate", "2000"],
    );
    let port: u16 = port.parse().expect("port");
    assert!(world.wait_rows(500, LONG), "no progress:\n{}", store.log());
    std::fs::write(&fault, "down").expect("fault file");
    let paused = wait_until(LONG, || {
        http_get(port, "/metrics").is_some_and(|m| {
            metric(&m, "pipeline_rate_scale_factor", "provider") == Some(0.0)
                && metric(&m, "pipeline_backpressure_state", "provider") == Some(2.0)
        })
    });
    assert!(paused, "the pipeline never paused:\n{}", pipeline.log());
    let during = world.rows();
    std::fs::remove_file(&fault).expect("fault cleared");
    finish(&mut pipeline);
    all_written(&world, 4000, &[&store]);
    assert!(during < 4000);
    assert!(
        !world.dir.path().join("mdp-dead-letters.ndjson").exists(),
        "nothing is dead-lettered"
    );
    stop(&mut store);
}
