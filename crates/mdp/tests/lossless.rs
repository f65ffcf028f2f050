//! Not one bar lost, no deadlock: `mdp store` and `mdp pipeline` as real processes over a
//! private Redis, on the settings a user runs unless a test names one and why. Every test
//! compares the sink with what the source produced, value by value, and ends with nothing
//! pending on the bus and no dead letter (unless the test makes them on purpose).

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::bars::{self, Bars};
use support::matrix::each_track;
use support::world::{World, finish, stop};
use support::{free_port, http_get, http_get_status, metric, wait_until};

/// `MDP_FB_WHEN_NO_STORE`, which some tests set to publish before any store runs.
const NO_STORE: &str = "MDP_FB_WHEN_NO_STORE";
const BARS_KEY: &str = "mdp.marketdata.bars";
/// Long enough for a debug build to move a million bars through Redis and PostgreSQL.
const VERY_LONG: Duration = Duration::from_secs(600);
/// The default idle timeout after which another store reclaims a dead store's entries,
/// plus room for the reclaim and the writes.
const RECLAIM: Duration = Duration::from_secs(90);

/// Writes `rows` (without header) as a CSV source file in `dir`.
fn csv(dir: &Path, name: &str, rows: &[String]) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).expect("csv file");
    writeln!(
        file,
        "provider,symbol,resolution,ts,open,high,low,close,volume"
    )
    .expect("header");
    for row in rows {
        writeln!(file, "{row}").expect("row");
    }
    path
}

fn row(symbol: &str, minute: u32, close: u32) -> String {
    let ts = chrono::DateTime::from_timestamp(1_704_205_800 + 60 * i64::from(minute), 0)
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!("csv,{symbol},1m,{ts},{close}.5,{close}.75,{close}.25,{close}.5,{minute}")
}

fn csv_bars(path: &Path) -> Bars {
    bars::source(None, Some(path))
}

fn redeliveries(port: u16) -> f64 {
    let text = http_get(port, "/metrics").unwrap_or_default();
    metric(&text, "pulse_redeliveries_total", "marketdata.bars").unwrap_or(0.0)
}

#[test]
fn a_pipeline_much_faster_than_its_store_loses_no_bar() {
    each_track(|track| {
        let Some(world) = World::postgres(track) else {
            return;
        };
        let world = world.on_defaults();
        let mut store = world.store("store-a", &[], &[]);
        let mut pipeline = world.pipeline(
            "pipeline",
            &["--port", "0", "--bars", "1000000", "--rate", "10000000"],
        );
        assert_eq!(
            pipeline.wait_exit(VERY_LONG),
            Some(true),
            "{}",
            pipeline.log()
        );
        assert!(
            world.wait_rows(1_000_000, VERY_LONG),
            "{} rows:\n{}",
            world.rows(),
            store.log()
        );
        bars::assert_same(&bars::source(Some(1_000_000), None), &world.bars());
        world.assert_settled();
        stop(&mut store);
    });
}

#[test]
fn stores_down_while_the_pipeline_publishes_past_the_old_retention_lose_nothing() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let world = world.on_defaults();
        // More than the 100 000 entries the bars stream used to be trimmed to.
        let n = 150_000;
        // Named: this test publishes with no store running on purpose (the default holds until
        // a store is heard), and past the default MDP_MAX_BACKLOG (50 000), to prove that
        // nothing published while the stores are down is trimmed unread.
        let mut pipeline = world.pipeline_with(
            "pipeline",
            &["--port", "0", "--bars", "150000", "--rate", "10000000"],
            &[(NO_STORE, "ok"), ("MDP_MAX_BACKLOG", "200000")],
        );
        finish(&mut pipeline);
        assert_eq!(world.redis.len(BARS_KEY), n, "every entry kept unread");
        let mut store = world.store("store-a", &[], &[]);
        assert!(
            world.wait_rows(n, Duration::from_secs(300)),
            "{} rows:\n{}",
            world.rows(),
            store.log()
        );
        bars::assert_same(&bars::source(Some(n), None), &world.bars());
        world.assert_settled();
        assert!(
            wait_until(Duration::from_secs(30), || world.redis.len(BARS_KEY) < n),
            "acknowledged entries are trimmed away"
        );
        stop(&mut store);
    });
}

#[test]
fn a_sink_cut_for_a_minute_dead_letters_nothing_and_the_loop_resumes_by_itself() {
    each_track(|track| {
        let Some(world) = World::postgres(track) else {
            return;
        };
        let (world, mut proxy) = world.on_defaults().through_proxy();
        let mut store = world.store("store-a", &[], &[]);
        let mut pipeline = world.pipeline(
            "pipeline",
            &["--port", "0", "--bars", "30000", "--rate", "1000"],
        );
        assert!(
            world.wait_rows(3000, Duration::from_secs(60)),
            "{}",
            store.log()
        );
        proxy.cut();
        std::thread::sleep(Duration::from_secs(60));
        let written_during_outage = world.rows();
        proxy.restore();
        let restored = Instant::now();
        // The breaker half-opens 60 s (the default) after it last opened; the probe then finds
        // the database back and the pipeline resumes: within one half-open period.
        assert!(
            wait_until(Duration::from_secs(70), || world.rows()
                > written_during_outage),
            "nothing written {:?} after the database came back:\n{}",
            restored.elapsed(),
            store.log()
        );
        assert_eq!(
            pipeline.wait_exit(Duration::from_secs(120)),
            Some(true),
            "{}",
            pipeline.log()
        );
        assert!(
            world.wait_rows(30_000, Duration::from_secs(60)),
            "{}",
            store.log()
        );
        bars::assert_same(&bars::source(Some(30_000), None), &world.bars());
        world.assert_settled();
        assert!(
            store.log().contains("circuit breaker opened"),
            "{}",
            store.log()
        );
        stop(&mut store);
    });
}

#[test]
fn the_last_revision_of_every_key_survives_stores_killed_mid_run() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let world = world.on_defaults();
        // Three revisions of 2 000 keys, one revision of every key after the other.
        let rows: Vec<String> = (1..=3)
            .flat_map(|rev| {
                (0..500).flat_map(move |minute| {
                    ["AAPL", "MSFT", "GOOG", "AMZN"]
                        .into_iter()
                        .map(move |s| row(s, minute, 100 * rev + minute))
                })
            })
            .collect();
        let path = csv(world.dir.path(), "revisions.csv", &rows);
        let want = csv_bars(&path);
        assert_eq!(want.len(), 2000);
        // Slow sinks (named: so that the store killed holds bars in hand when it dies).
        let slow = ["--sink-rate", "1000"];
        let mut a = world.store("store-a", &slow, &[]);
        let port_b = free_port();
        let mut b = world.store_at("store-b", port_b, &slow, &[]);
        let path_arg = path.display().to_string();
        let mut pipeline = world.pipeline(
            "pipeline",
            &["--port", "0", "--csv", &path_arg, "--rate", "3000"],
        );
        assert!(world.wait_rows(500, Duration::from_secs(60)), "{}", a.log());
        let held_by_a = world.redis.pending_of(BARS_KEY, "store", "store-a");
        a.kill9();
        assert!(held_by_a > 0, "store-a held nothing when killed");
        finish(&mut pipeline);
        let redelivered = wait_until(RECLAIM, || redeliveries(port_b) > 0.0);
        assert!(redelivered, "no redelivery:\n{}", b.log());
        assert!(
            wait_until(RECLAIM, || world.pending() == 0 && world.bars() == want),
            "{} pending; sink differs",
            world.pending()
        );
        bars::assert_same(&want, &world.bars());
        world.assert_settled();
        stop(&mut b);
    });
}

#[test]
fn one_poison_bar_in_a_batch_of_500_is_the_only_bar_dead_lettered() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let world = world.on_defaults();
        let rows: Vec<String> = (0..500)
            .map(|i| row(if i == 250 { "POISON" } else { "AAPL" }, i, 100 + i))
            .collect();
        let path = csv(world.dir.path(), "poison.csv", &rows);
        let path_arg = path.display().to_string();
        // Named: the 500 bars are published before the store starts, so that it reads them as
        // one batch; the default would hold the pipeline until a store is heard.
        let mut pipeline = world.pipeline_with(
            "pipeline",
            &["--port", "0", "--csv", &path_arg, "--rate", "100000"],
            &[(NO_STORE, "ok")],
        );
        finish(&mut pipeline);
        // Named: the dead-letter drill makes the sink refuse POISON for good.
        let mut store = world.store("store-a", &[], &[("MDP_SINK_REJECT_SYMBOLS", "POISON")]);
        let mut want = csv_bars(&path);
        want.retain(|_, bar| bar.symbol != "POISON");
        assert!(
            world.wait_rows(499, Duration::from_secs(60)),
            "{}",
            store.log()
        );
        assert!(wait_until(Duration::from_secs(30), || world.pending() == 0));
        bars::assert_same(&want, &world.bars());
        stop(&mut store);
        let text = std::fs::read_to_string(world.dir.path().join("mdp-dead-letters.ndjson"))
            .expect("a dead-letter file");
        let dead: Vec<store::dead_letter::DeadLetterRecord> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a record"))
            .collect();
        let bars: Vec<_> = dead.iter().flat_map(|r| &r.items).collect();
        assert_eq!(bars.len(), 1, "exactly one bar dead-lettered: {text}");
        assert_eq!(bars[0].symbol, "POISON");
        assert_eq!(world.dead_letters(), 0);
    });
}

#[test]
fn sigterm_with_the_sink_down_ends_within_the_grace_and_leaves_the_bars_pending() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let world = world.on_defaults();
        let fault = world.dir.path().join("sink-down");
        std::fs::write(&fault, "").expect("fault file");
        let fault_arg = fault.display().to_string();
        // Named: the bars are published before the store starts, so that it holds all 1000
        // when it is told to stop; the default would hold the pipeline until a store is heard.
        let mut pipeline = world.pipeline_with(
            "pipeline",
            &["--port", "0", "--bars", "1000", "--rate", "100000"],
            &[(NO_STORE, "ok")],
        );
        finish(&mut pipeline);
        // Named: a 3 s grace instead of the default 30 s keeps the test short.
        let port = free_port();
        let mut store = world.store_at(
            "store-a",
            port,
            &[],
            &[
                ("MDP_SINK_FAULT_FILE", fault_arg.as_str()),
                ("MDP_SHUTDOWN_GRACE_SEC", "3"),
            ],
        );
        assert!(
            wait_until(Duration::from_secs(30), || world.pending() == 1000),
            "{}",
            store.log()
        );
        // A store that cannot write says so: not ready, unhealthy.
        let truthful = wait_until(Duration::from_secs(30), || {
            let ready = http_get_status(port, "/readyz");
            let health = http_get_status(port, "/health");
            ready.is_some_and(|(code, _)| code == 503)
                && health.is_some_and(|(_, body)| body.contains(r#""state":"unhealthy""#))
        });
        assert!(
            truthful,
            "readyz {:?}, health {:?}",
            http_get_status(port, "/readyz"),
            http_get_status(port, "/health")
        );
        let asked = Instant::now();
        let status = store.terminate_status(Duration::from_secs(20));
        let took = asked.elapsed();
        assert!(
            took < Duration::from_secs(8),
            "took {took:?}:\n{}",
            store.log()
        );
        assert_eq!(
            status,
            Some(3),
            "exit code 3: bars left unwritten\n{}",
            store.log()
        );
        let last = store.log().lines().last().unwrap_or_default().to_owned();
        assert!(last.contains("1000"), "the last line says how many: {last}");
        assert_eq!(world.pending(), 1000, "left pending on the bus, not acked");
        assert_eq!(world.rows(), 0);

        std::fs::remove_file(&fault).expect("sink back");
        let mut next = world.store("store-b", &[], &[]);
        assert!(world.wait_rows(1000, RECLAIM), "{}", next.log());
        bars::assert_same(&bars::source(Some(1000), None), &world.bars());
        world.assert_settled();
        stop(&mut next);
    });
}

#[test]
fn an_unwritable_dead_letter_file_is_refused_at_start() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let world = world.on_defaults();
        let bad = "/proc/mdp-no-such-dir/dead-letters.ndjson";
        for args in [
            vec!["store", "--port", "0", "--dead-letter-file", bad],
            vec!["run", "--bars", "10", "--dead-letter-file", bad],
        ] {
            let out = world.command(&args).output().expect("mdp runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(stderr.contains(bad), "{args:?} names the path: {stderr}");
        }
    });
}

#[test]
fn entries_that_are_not_bars_are_dead_lettered_byte_for_byte() {
    each_track(|track| {
        let Some(world) = World::new(track) else {
            return;
        };
        let world = world.on_defaults();
        let client = redis::Client::open(world.redis.url()).expect("client");
        let mut con = client.get_connection().expect("connection");
        let not_utf8: &[u8] = b"{\"ts\": 1.0, \xff\xfe}";
        let entries: [(&[u8], &[u8]); 2] =
            [(b"payload", b"{\"not\": \"data\"}"), (b"data", not_utf8)];
        let mut ids = Vec::new();
        for (field, value) in entries {
            let id: String = redis::cmd("XADD")
                .arg(BARS_KEY)
                .arg("*")
                .arg(field)
                .arg(value)
                .query(&mut con)
                .expect("XADD");
            ids.push(id);
        }
        let mut store = world.store("store-a", &[], &[]);
        assert!(
            wait_until(Duration::from_secs(30), || world.dead_letters() == 2),
            "{}",
            store.log()
        );
        let reply: Vec<(String, Vec<Vec<u8>>)> = redis::cmd("XRANGE")
            .arg(format!("{BARS_KEY}.dlq"))
            .arg("-")
            .arg("+")
            .query(&mut con)
            .expect("XRANGE");
        for ((field, value), id) in entries.into_iter().zip(&ids) {
            let letter = reply
                .iter()
                .map(|(_, fields)| fields)
                .find(|fields| {
                    fields
                        .chunks(2)
                        .any(|kv| kv[0] == b"original_id" && kv[1] == id.as_bytes())
                })
                .unwrap_or_else(|| panic!("no dead letter for {id}: {reply:?}"));
            assert!(
                letter.chunks(2).any(|kv| kv[0] == field && kv[1] == value),
                "field {:?} kept byte for byte: {letter:?}",
                String::from_utf8_lossy(field)
            );
        }
        assert!(wait_until(Duration::from_secs(30), || world.pending() == 0));
        stop(&mut store);
    });
}
