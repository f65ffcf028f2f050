//! The feedback loop across real processes over a private Redis: every pipeline hears every
//! store (two pipelines both hold while one store is hard, and both come back), a store
//! stopped with SIGTERM says goodbye and is blamed for nothing afterwards, a pipeline holds
//! until a store is heard, a pipeline restarted mid-run knows every store's level before it
//! publishes, and with every store killed the bars backlog stays bounded by
//! `MDP_MAX_BACKLOG` and nothing is lost when they return.
//!
//! The kill test runs on the defaults a user runs: it is the backlog limit (50 000) that must
//! stop the pipeline while the dead stores' last word is still fresh. The others run in the
//! world's fast timings (0.3 s heartbeats, 2 s forget-after, a 1000-bar queue), so that "more
//! than three heartbeats" and "every store known" take a second rather than fifteen; what
//! they assert does not depend on those values.

mod support;

use std::process::Command;
use std::time::Duration;

use support::bars::{self, Bars};
use support::matrix::each_track;
use support::world::{Db, LONG, World, all_written, finish, stop};
use support::{Proc, free_port, http_get_status, metric, metrics, published, scale, wait_until};

const BARS_KEY: &str = "mdp.marketdata.bars";
const FEEDBACK_KEY: &str = "mdp.telemetry.feedback";
/// The default `MDP_MAX_BACKLOG`.
const MAX_BACKLOG: u64 = 50_000;
/// The default `MDP_SOURCE_BATCH_SIZE`.
const BATCH: u64 = 50;
/// The second pipeline's symbols, so that its bars have keys of their own.
const OTHER_SYMBOLS: &str = "XOM,CVX";

/// `mdp store` on `port` writing to `sink` instead of the world's sink.
fn store_on(world: &World, name: &str, port: u16, sink: &str) -> Proc {
    let port = port.to_string();
    let cmd: Command =
        world.command(&["store", "--port", &port, "--consumer", name, "--sink", sink]);
    Proc::spawn(name, cmd, world.dir.path())
}

/// `mdp pipeline` named `pipeline` asking 20 000 bars/s for `n` bars.
fn fast_pipeline(world: &World, port: u16, n: u64, env: &[(&str, &str)]) -> Proc {
    let count = n.to_string();
    world.pipeline_at(
        "pipeline",
        port,
        &["--bars", &count, "--rate", "20000"],
        env,
    )
}

fn both(ports: [u16; 2], want: f64) -> bool {
    ports.iter().all(|p| scale(*p) == Some(want))
}

#[test]
fn while_one_store_is_hard_every_pipeline_holds_and_a_restarted_one_knows_it_first() {
    each_track(|track| {
        let Some(world) = World::postgres(track) else {
            return;
        };
        let (world, mut proxy) = world.through_proxy();
        let Db::Postgres(schema) = &world.db else {
            unreachable!("a PostgreSQL world")
        };
        let direct = schema.url.clone();
        let (pa, pb) = (free_port(), free_port());
        // Store A writes through the proxy the test cuts; it half-opens after 1 s rather than
        // the default 60 s so that the test does not wait a minute once the database is back.
        let store_a = world.store_at("store-a", pa, &[], &[("MDS_CB_HALF_OPEN_AFTER_SEC", "1")]);
        let store_b = store_on(&world, "store-b", pb, &direct);
        let n = 20_000u64;
        let count = n.to_string();
        let (p1, p2) = (free_port(), free_port());
        let args = ["--bars", count.as_str(), "--rate", "2000"];
        let mut first = world.pipeline_at("pipeline-1", p1, &args, &[]);
        let mut second = world.pipeline_at(
            "pipeline-2",
            p2,
            &args,
            &[("MDP_SOURCE_SYMBOLS", OTHER_SYMBOLS)],
        );
        assert!(
            wait_until(LONG, || both([p1, p2], 1.0) && world.rows() >= 2000),
            "the loop did not start:\n{}\n{}",
            first.log(),
            second.log()
        );

        proxy.cut();
        let held = wait_until(LONG, || {
            both([p1, p2], 0.0) && metric(&metrics(pa), "mds_coord_circuit_state", "") == Some(1.0)
        });
        assert!(
            held,
            "both pipelines at scale 0 while store-a is hard:\n{}\n{}\n{}",
            store_a.log(),
            first.log(),
            second.log()
        );
        for p in [&first, &second] {
            assert!(
                p.log().contains("coordinator_id=\"store-a\"")
                    || p.log().contains("coordinator_id=store-a"),
                "{} names store-a as the cause:\n{}",
                p.name,
                p.log()
            );
        }

        // A pipeline restarted now knows store-a is hard before it publishes a single bar.
        first.kill9();
        let before = world.redis.len(BARS_KEY);
        let mut first = world.pipeline_at("pipeline-1b", p1, &args, &[]);
        let known = wait_until(LONG, || {
            let m = metrics(p1);
            metric(&m, "pipeline_feedback_coordinators", "fresh") == Some(2.0)
                && metric(&m, "pipeline_rate_scale_factor", "ibkr") == Some(0.0)
        });
        assert!(
            known,
            "the restarted pipeline learns both stores:\n{}",
            first.log()
        );
        assert_eq!(
            world.redis.len(BARS_KEY),
            before,
            "nothing published by the restarted pipeline while a store is hard"
        );
        assert!(
            first.log().contains("feedback history replayed"),
            "{}",
            first.log()
        );

        proxy.restore();
        assert!(
            wait_until(LONG, || both([p1, p2], 1.0)),
            "both pipelines come back:\n{}\n{}\n{}",
            store_a.log(),
            first.log(),
            second.log()
        );
        finish(&mut first);
        finish(&mut second);
        let mut want: Bars = bars::source(Some(n), None);
        want.extend(bars::source_with(
            Some(n),
            None,
            &[("MDP_SOURCE_SYMBOLS", OTHER_SYMBOLS)],
        ));
        let all = wait_until(LONG, || world.rows() >= want.len() as u64);
        assert!(all, "{} of {} rows", world.rows(), want.len());
        bars::assert_same(&want, &world.bars());
        world.assert_settled();
        drop((store_a, store_b));
    });
}

#[test]
fn a_store_stopped_with_sigterm_is_dropped_at_once_and_blamed_for_nothing() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let (pa, pb) = (free_port(), free_port());
        let mut store_a = world.store_at("store-a", pa, &[], &[]);
        let store_b = world.store_at("store-b", pb, &[], &[]);
        // Both stores have opened the shared SQLite file before bars arrive.
        let ready = |p: u16| http_get_status(p, "/readyz").is_some_and(|(code, _)| code == 200);
        assert!(
            wait_until(LONG, || ready(pa) && ready(pb)),
            "{}\n{}",
            store_a.log(),
            store_b.log()
        );
        let port = free_port();
        let mut pipe = world.pipeline_at(
            "pipeline",
            port,
            &["--bars", "40000", "--rate", "2000"],
            &[],
        );
        let fresh =
            |n: f64| metric(&metrics(port), "pipeline_feedback_coordinators", "fresh") == Some(n);
        assert!(
            wait_until(LONG, || fresh(2.0) && world.rows() >= 1000),
            "{}\n{}",
            pipe.log(),
            store_b.log()
        );
        let adjustments = || -> f64 {
            metrics(port)
                .lines()
                .filter(|l| l.starts_with("pipeline_rate_adjustments_total"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum()
        };
        stop(&mut store_a);
        let cut = pipe.log().len();
        let adjusted_at_cut = adjustments();
        assert!(
            wait_until(LONG, || metric(
                &metrics(port),
                "pipeline_feedback_coordinators_left_total",
                ""
            ) == Some(1.0)),
            "the goodbye is heard:\n{}",
            pipe.log()
        );
        assert!(fresh(1.0));
        // Let more than three of store-b's heartbeats (0.3 s each here) go by: a store taken
        // for silent would turn the pipeline soft by now.
        let beats = world.redis.len(FEEDBACK_KEY);
        assert!(wait_until(LONG, || world.redis.len(FEEDBACK_KEY) >= beats + 5));
        assert_eq!(scale(port), Some(1.0), "full rate after store-a left");
        let after = pipe.log()[cut..].to_owned();
        for line in after.lines().filter(|l| l.contains("store-a")) {
            assert!(
                line.contains("stopped gracefully"),
                "a line blames store-a after it left: {line}"
            );
        }
        assert_eq!(
            adjustments(),
            adjusted_at_cut,
            "no adjustment after store-a left:\n{after}"
        );
        finish(&mut pipe);
        all_written(&world, 40_000, &[&store_b]);
    });
}

#[test]
fn a_pipeline_started_before_any_store_publishes_nothing_until_one_is_heard() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let port = free_port();
        let mut pipe =
            world.pipeline_at("pipeline", port, &["--bars", "5000", "--rate", "5000"], &[]);
        let holding = wait_until(LONG, || {
            let ready = http_get_status(port, "/readyz");
            ready.is_some_and(|(code, body)| code == 503 && body.contains("store"))
                && metric(&metrics(port), "pipeline_feedback_no_store", "ibkr") == Some(1.0)
        });
        assert!(
            holding,
            "not ready and holding without a store:\n{}",
            pipe.log()
        );
        assert_eq!(published(port), Some(0.0));
        assert_eq!(world.redis.len(BARS_KEY), 0, "nothing published");
        assert!(pipe.log().contains("no live store known"), "{}", pipe.log());

        let store = world.store("store-a", &[], &[]);
        assert!(
            wait_until(LONG, || http_get_status(port, "/readyz")
                .is_some_and(|(c, _)| c == 200)),
            "ready once a store is heard"
        );
        finish(&mut pipe);
        all_written(&world, 5000, &[&store]);
    });
}

#[test]
fn with_every_store_killed_the_backlog_stays_bounded_and_nothing_is_lost() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let world = world.on_defaults();
        let mut store_a = world.store("store-a", &[], &[]);
        let mut store_b = world.store("store-b", &[], &[]);
        let port = free_port();
        let n = 150_000u64;
        let mut pipe = fast_pipeline(&world, port, n, &[]);
        assert!(world.wait_rows(10_000, LONG), "{}", pipe.log());
        store_a.kill9();
        store_b.kill9();

        // The pipeline holds once the backlog passes MDP_MAX_BACKLOG (its stores' last word is
        // still fresh, so it is the backlog that stops it) ...
        let mut peak = 0;
        // Held means the backlog in Redis itself is past the limit: the pipeline's estimate may
        // run a batch ahead of it (it counts a publish that raced a reading twice), and at the
        // limit it is the true backlog that decides.
        let held = wait_until(LONG, || {
            let backlog = world.redis.backlog(BARS_KEY, "store");
            peak = peak.max(backlog);
            backlog > MAX_BACKLOG
                && scale(port) == Some(0.0)
                && metric(&metrics(port), "pipeline_bars_backlog", "ibkr")
                    .is_some_and(|b| b > MAX_BACKLOG as f64)
        });
        assert!(held, "the pipeline holds on the backlog:\n{}", pipe.log());
        // ... and stays held: watched for two seconds (twenty backlog readings of the
        // pipeline's), it publishes nothing more while the stores are away.
        let at_hold = published(port);
        let watch = std::time::Instant::now();
        while watch.elapsed() < Duration::from_secs(2) {
            peak = peak.max(world.redis.backlog(BARS_KEY, "store"));
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(published(port), at_hold, "nothing published while held");
        assert!(
            peak <= MAX_BACKLOG + BATCH,
            "backlog peaked at {peak}, above {MAX_BACKLOG} + one batch"
        );
        assert!(peak > MAX_BACKLOG / 2, "the test reached the limit: {peak}");
        assert!(
            pipe.log().contains("cause=\"backlog\"") || pipe.log().contains("cause=backlog"),
            "{}",
            pipe.log()
        );

        let (pc, pd) = (free_port(), free_port());
        let store_c = world.store_at("store-c", pc, &[], &[]);
        let store_d = world.store_at("store-d", pd, &[], &[]);
        finish(&mut pipe);
        all_written(&world, n, &[&store_c, &store_d]);
        let redelivered: f64 = [pc, pd]
            .iter()
            .filter_map(|p| metric(&metrics(*p), "pulse_redeliveries_total", "marketdata.bars"))
            .sum();
        assert!(
            redelivered > 0.0,
            "the killed stores' entries were redelivered to the new ones"
        );
    });
}

/// Adaptive mode across processes, on the defaults but the mode (a 10 000-bar queue, 5 s
/// heartbeats, utilization reports every 250 ms): a store whose sink takes 2 000 bars/s and
/// a pipeline asking 20 000. Once past the start, the store never turns hard while the
/// pipeline's scale moves through values of its own (neither the levels' 0.5 nor a pause),
/// and every bar arrives.
#[test]
fn in_adaptive_mode_the_pipeline_settles_without_hard_episodes_and_loses_nothing() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let world = world.on_defaults();
        let store_port = free_port();
        let store = world.store_at("store-a", store_port, &["--sink-rate", "2000"], &[]);
        // the counter appears with the first hard event
        let hard_events = || {
            metric(
                &metrics(store_port),
                "mds_feedback_events_total",
                "level=\"hard\"",
            )
            .unwrap_or(0.0)
        };
        assert!(
            wait_until(LONG, || http_get_status(store_port, "/readyz")
                .is_some_and(|(c, _)| c == 200)),
            "the store is ready:\n{}",
            store.log()
        );
        let port = free_port();
        let n = 30_000u64;
        let mut pipe = fast_pipeline(&world, port, n, &[("MDP_FB_MODE", "adaptive")]);
        // the start: the queue fills before the first report can arrive
        assert!(world.wait_rows(4_000, LONG), "{}", pipe.log());
        let hard_after_start = hard_events();
        let mut scales = Vec::new();
        let mut depth_peak = 0.0f64;
        let deadline = std::time::Instant::now() + LONG;
        while world.rows() < n - 4_000 && std::time::Instant::now() < deadline {
            scales.extend(scale(port));
            let depth = metric(&metrics(store_port), "mds_coord_queue_depth", "store-a");
            depth_peak = depth_peak.max(depth.unwrap_or(0.0));
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            hard_events(),
            hard_after_start,
            "no hard episode after the start (queue peaked at {depth_peak}); scales {scales:?}\n{}",
            store.log()
        );
        assert!(
            depth_peak < 8_000.0,
            "the queue stayed below the high watermark: {depth_peak}"
        );
        assert!(
            scales.iter().any(|&s| s > 0.0 && s < 0.45),
            "the scale came down to the sink's share: {scales:?}"
        );
        assert!(
            scales.iter().all(|&s| s > 0.0 && s != 0.5),
            "no pause and no levels' half once past the start: {scales:?}"
        );
        finish(&mut pipe);
        all_written(&world, n, &[&store]);
    });
}
