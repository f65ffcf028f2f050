//! Operating `mdp store` over a private Redis: bars the sink refuses for good are
//! dead-lettered and their bus entries acknowledged (nothing stays pending, nothing is
//! lost); the admin routes behind `ADMIN_TOKEN` pause and resume reading from the bus.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use store::dead_letter::DeadLetterRecord;
use support::bars;
use support::matrix::each_track;
use support::world::{LONG, World, all_written, finish, stop};
use support::{Proc, free_port, http_get, http_post, metric, metrics, wait_until};

const BARS_KEY: &str = "mdp.marketdata.bars";

fn dead_letters(world: &World) -> Vec<DeadLetterRecord> {
    let path = world.dir.path().join("mdp-dead-letters.ndjson");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a dead-letter record"))
        .collect()
}

#[test]
fn bars_the_sink_refuses_are_dead_lettered_and_their_entries_acknowledged() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let port = free_port();
        let mut store = world.store_at(
            "store-a",
            port,
            &[],
            &[
                ("MDP_SINK_REJECT_SYMBOLS", "GOOG"),
                ("MDS_COORDINATOR_BATCH_SIZE", "1"),
            ],
        );
        // The synthetic source takes AAPL, MSFT, GOOG, AMZN in turn: 100 bars of each.
        let mut pipeline = world.pipeline(
            "pipeline",
            &["--port", "0", "--bars", "400", "--rate", "20000"],
        );
        finish(&mut pipeline);
        assert!(world.wait_rows(300, LONG), "no progress:\n{}", store.log());
        let mut want = bars::source(Some(400), None);
        want.retain(|_, bar| bar.symbol != "GOOG");
        bars::assert_same(&want, &world.bars());
        let settled = wait_until(LONG, || {
            let m = metrics(port);
            world.pending() == 0
                && metric(&m, "mdp_store_bars_dead_lettered_total", "") == Some(100.0)
                && metric(&m, "mdp_store_bars_acked_total", "") == Some(400.0)
        });
        assert!(
            settled,
            "pending {}, metrics:\n{}\nlog:\n{}",
            world.pending(),
            metrics(port),
            store.log()
        );

        let records = dead_letters(&world);
        assert!(records.iter().all(|r| r.error_type == "permanent"));
        let dead: Vec<_> = records.iter().flat_map(|r| &r.items).collect();
        assert_eq!(dead.len(), 100, "each refused bar once");
        assert!(dead.iter().all(|bar| bar.symbol == "GOOG"));
        let keys: BTreeSet<_> = dead.iter().map(|bar| bar.key()).collect();
        assert_eq!(keys.len(), 100);
        stop(&mut store);
        assert_eq!(world.pending(), 0);
        bars::assert_same(&want, &world.bars());
    });
}

fn post(port: u16, path: &str, token: Option<&str>) -> (u16, String) {
    http_post(port, path, token).unwrap_or_else(|| panic!("no answer to POST {path}"))
}

fn admin_store(world: &World, port: u16) -> Proc {
    let store = world.store_at("store-a", port, &[], &[("ADMIN_TOKEN", "s3cret")]);
    assert!(
        wait_until(LONG, || http_get(port, "/healthz").is_some()),
        "store not serving:\n{}",
        store.log()
    );
    store
}

#[test]
fn admin_pause_stops_reading_from_the_bus_and_resume_goes_on() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let port = free_port();
        let mut store = admin_store(&world, port);

        assert_eq!(post(port, "/admin/pause", None).0, 401, "no token");
        assert_eq!(post(port, "/admin/pause", Some("wrong")).0, 401);
        let (code, body) = post(port, "/admin/pause", Some("s3cret"));
        assert_eq!(code, 200, "{body}");
        assert!(body.contains("reading paused"), "{body}");
        assert!(
            http_get(port, "/healthz").is_some_and(|h| h.contains(r#""paused":"true""#)),
            "the reader shows as paused"
        );

        let mut pipeline = world.pipeline(
            "pipeline",
            &["--port", "0", "--bars", "500", "--rate", "20000"],
        );
        finish(&mut pipeline);
        assert_eq!(world.redis.len(BARS_KEY), 500);
        // Real processes on a real Redis: no paused clock. A paused store that still read
        // would take the entries within one read (100 ms in the world's timings); 3 s is
        // thirty of them, so a loaded machine cannot hide a read behind a slow start.
        let read_while_paused = wait_until(Duration::from_secs(3), || {
            world.rows() > 0 || world.pending() > 0
        });
        assert!(
            !read_while_paused,
            "a paused store read bars: {} rows, {} pending",
            world.rows(),
            world.pending()
        );

        let (code, body) = post(port, "/admin/resume", Some("s3cret"));
        assert_eq!(
            (code, body.contains("reading resumed")),
            (200, true),
            "{body}"
        );
        all_written(&world, 500, &[&store]);
        assert!(
            wait_until(LONG, || world.pending() == 0),
            "entries left pending"
        );

        let (code, body) = post(port, "/admin/reload", Some("s3cret"));
        assert_eq!(code, 500, "{body}");
        assert!(body.contains("not supported"), "{body}");
        stop(&mut store);
    });
}

#[test]
fn admin_routes_are_off_without_a_token() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let port = free_port();
        let mut store = world.store_at("store-a", port, &[], &[]);
        assert!(wait_until(LONG, || http_get(port, "/healthz").is_some()));
        assert_eq!(post(port, "/admin/pause", Some("anything")).0, 404);
        stop(&mut store);
    });
}
