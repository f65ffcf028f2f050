//! `mdp store` and `mdp pipeline` as real processes over a private Redis: the feedback loop,
//! a store killed with SIGKILL while another store of the group takes over, a pipeline
//! killed and restarted, Redis restarted mid-run, and a sink outage. Every bar ends up in
//! the database exactly once.

mod support;

use support::matrix::each_track;
use support::world::{LONG, World, all_written, finish, stop};
use support::{free_port, http_get, metric, wait_until};

#[test]
fn a_slow_store_slows_the_pipeline_over_redis_and_every_bar_is_written() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
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
    });
}

#[test]
fn a_store_killed_mid_run_is_taken_over_by_another_store_of_the_group() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
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
    });
}

#[test]
fn a_pipeline_killed_and_restarted_resumes_after_what_it_published() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
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
    });
}

#[test]
fn both_sides_reconnect_after_redis_restarts_and_nothing_is_lost() {
    each_track(|track| {
        let Some(mut world) = World::new(track) else {
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
        // The retries name Redis's address, and the recovery is logged.
        let url = world.redis.url();
        let address = url.trim_start_matches("redis://").trim_end_matches("/0");
        let log = store.log();
        let retry = log
            .lines()
            .find(|l| l.contains("restarting after a bus error"))
            .unwrap_or_else(|| panic!("the store's reader saw no bus error:\n{log}"));
        assert!(retry.contains(address), "{retry}");
        assert!(log.contains("bars stream readable again"), "{log}");
        let log = pipeline.log();
        if let Some(failed) = log.lines().find(|l| l.contains("bar publish failed")) {
            assert!(failed.contains(address), "{failed}");
            assert!(log.contains("bar publish works again"), "{log}");
        }
    });
}

#[test]
fn a_sink_outage_opens_the_breaker_pauses_the_pipeline_and_writing_resumes() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let fault = world.dir.path().join("sink.fault");
        let fault_var = fault.display().to_string();
        let mut store = world.store(
            "store-a",
            &[],
            &[
                ("MDP_SINK_FAULT_FILE", fault_var.as_str()),
                // Named: a breaker quick to open and to probe keeps this drill short; the
                // lossless tests run the same outage on the default 60 s.
                ("MDS_CB_FAILURE_THRESHOLD", "2"),
                ("MDS_CB_HALF_OPEN_AFTER_SEC", "0.3"),
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
    });
}
