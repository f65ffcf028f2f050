//! `mdp orchestrator` over a private Redis with two stores and two pipelines, all real
//! processes: the topology lists the four at once; the page, in a real headless Chromium,
//! shows them and updates a store's card when it goes hard; `mdp ctl set-rate` drives a slow
//! store hard, which the topology shows with its reason; `mdp ctl pause` holds both
//! pipelines (their published counts stay flat) and `resume` restarts them, each command
//! audited on `control.audit`; a store killed -9 turns stale and then gone, and its bars are
//! redelivered to the other; at the end the sink holds exactly what both pipelines
//! published, value by value, with nothing pending and nothing dead-lettered.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use core_contracts::{
    AuditEnvelope, BackpressureLevel, ClusterTopology, ControlAction, ControlStatus, Presence,
    Track,
};
use serde_json::Value;
use support::bars::{self, Bars};
use support::matrix::each_track;
use support::world::{LONG, World, stop};
use support::{
    Proc, free_port, http_get, mdp, metric, metrics, published, unavailable, wait_until,
};

const TOKEN: &str = "s3cret";
/// Members report every 0.3 s (default 1 s), to match the orchestrator's shortened windows.
const STATUS_EVERY: (&str, &str) = ("MDP_STATUS_EVERY_SEC", "0.3");
const P1_SYMBOLS: &str = "AAPL,MSFT";
const P2_SYMBOLS: &str = "GOOG,AMZN";

/// The orchestrator, its port, and the world's processes.
struct Loop {
    orchestrator: Proc,
    port: u16,
    stores: [Proc; 2],
    store_ports: [u16; 2],
    pipelines: [Proc; 2],
    pipeline_ports: [u16; 2],
}

fn topology(port: u16) -> Option<ClusterTopology> {
    serde_json::from_str(&http_get(port, "/api/topology")?).ok()
}

fn start(world: &World) -> Loop {
    let port = free_port();
    // Shorter windows than the defaults (3 s stale, 15 s gone) keep the kill -9 part short.
    let mut cmd = world.command(&["orchestrator", "--port", &port.to_string()]);
    cmd.env("ADMIN_TOKEN", TOKEN)
        .env("MDP_ORCH_STALE_AFTER_SEC", "1")
        .env("MDP_ORCH_GONE_AFTER_SEC", "3");
    let orchestrator = Proc::spawn("orchestrator", cmd, world.dir.path());
    let store_ports = [free_port(), free_port()];
    // store-b's sink takes 300 bars/s: it keeps up with the pipelines' first 2 x 100/s and
    // falls behind, hard, when set-rate raises them.
    let stores = [
        world.store_at("store-a", store_ports[0], &[], &[STATUS_EVERY]),
        world.store_at(
            "store-b",
            store_ports[1],
            &["--sink-rate", "300"],
            &[STATUS_EVERY],
        ),
    ];
    let pipeline_ports = [free_port(), free_port()];
    let pipelines = [
        world.pipeline_at(
            "p-1",
            pipeline_ports[0],
            &["--id", "p-1", "--rate", "100"],
            &[("MDP_SOURCE_SYMBOLS", P1_SYMBOLS), STATUS_EVERY],
        ),
        world.pipeline_at(
            "p-2",
            pipeline_ports[1],
            &["--id", "p-2", "--rate", "100"],
            &[("MDP_SOURCE_SYMBOLS", P2_SYMBOLS), STATUS_EVERY],
        ),
    ];
    let all = Loop {
        orchestrator,
        port,
        stores,
        store_ports,
        pipelines,
        pipeline_ports,
    };
    let ports = [port]
        .into_iter()
        .chain(all.store_ports)
        .chain(all.pipeline_ports);
    for p in ports {
        assert!(
            wait_until(LONG, || http_get(p, "/healthz").is_some()),
            "a process is not serving on {p}:\n{}",
            all.logs()
        );
    }
    all
}

impl Loop {
    fn logs(&self) -> String {
        let mut text = format!("--- orchestrator\n{}", self.orchestrator.log());
        for p in self.stores.iter().chain(&self.pipelines) {
            text.push_str(&format!("--- {}\n{}", p.name, p.log()));
        }
        text
    }

    fn ctl(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = mdp();
        cmd.args(["ctl"])
            .args(args)
            .args(["--actor", "ops@test"])
            .env("ADMIN_TOKEN", TOKEN)
            .env(
                "MDP_ORCHESTRATOR_URL",
                format!("http://127.0.0.1:{}", self.port),
            );
        cmd.output().expect("mdp ctl runs")
    }

    fn published(&self) -> [f64; 2] {
        self.pipeline_ports.map(|p| published(p).unwrap_or(-1.0))
    }
}

/// The members of `topology` by id, with their presence.
fn presences(topology: &ClusterTopology) -> BTreeMap<String, Presence> {
    topology
        .stores
        .iter()
        .map(|s| (s.id.clone(), s.presence))
        .chain(
            topology
                .pipelines
                .iter()
                .map(|p| (p.id.clone(), p.presence)),
        )
        .collect()
}

/// The page in headless Chromium (tests/browser/drive.mjs): its JSON lines as they come.
struct Browser {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Browser {
    /// `None` (after a skip, a failure under CI) when the browser is not installed.
    fn open(port: u16, shots: &std::path::Path) -> Option<Self> {
        let Some(modules) = std::env::var_os("MDP_BROWSER_NODE_PATH") else {
            unavailable(
                "MDP_BROWSER_NODE_PATH is not set: scripts/browser-env.sh installs headless \
                 Chromium and playwright-core (scripts/test runs it)",
            );
            return None;
        };
        let driver = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/drive.mjs");
        let mut child = Command::new("node")
            .arg(driver)
            .arg(format!("http://127.0.0.1:{port}/"))
            .arg(shots)
            .env(
                "NODE_PATH",
                std::path::Path::new(&modules).join("node_modules"),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the browser driver");
        let stdout = child.stdout.take().expect("its stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let value =
                    serde_json::from_str(&line).unwrap_or_else(|_| Value::String(line.clone()));
                if send.send(value).is_err() {
                    return;
                }
            }
        });
        Some(Self { child, lines })
    }

    /// Tells the driver the test is done with the page: it reports what it saw.
    fn finish(&mut self) -> Value {
        drop(self.child.stdin.take());
        self.expect("done", LONG)
    }

    /// The next line, which must be the event `want`.
    fn expect(&self, want: &str, timeout: Duration) -> Value {
        let line = self
            .lines
            .recv_timeout(timeout)
            .unwrap_or_else(|_| panic!("the browser driver said nothing of {want}"));
        assert_eq!(line["event"], want, "the browser driver: {line}");
        line
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn audits(world: &World) -> Vec<AuditEnvelope> {
    let mut conn = redis::Client::open(world.redis.url())
        .and_then(|c| c.get_connection())
        .expect("redis");
    let entries: Vec<(String, BTreeMap<String, String>)> = redis::cmd("XRANGE")
        .arg(world.key("mdp.control.audit"))
        .arg("-")
        .arg("+")
        .query(&mut conn)
        .expect("XRANGE");
    entries
        .into_iter()
        .map(|(_, fields)| {
            let envelope: Value = serde_json::from_str(&fields["data"]).expect("an envelope");
            serde_json::from_value(envelope["payload"].clone()).expect("an audit record")
        })
        .collect()
}

fn checkpoint(world: &World, name: &str) -> u64 {
    let path = world.dir.path().join(format!("{name}.checkpoint"));
    std::fs::read_to_string(&path)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no checkpoint at {}", path.display()))
}

fn published_bars(world: &World) -> Bars {
    let mut want = bars::source_with(
        Some(checkpoint(world, "p-1")),
        None,
        &[("MDP_SOURCE_SYMBOLS", P1_SYMBOLS)],
    );
    want.extend(bars::source_with(
        Some(checkpoint(world, "p-2")),
        None,
        &[("MDP_SOURCE_SYMBOLS", P2_SYMBOLS)],
    ));
    want
}

#[test]
fn the_orchestrator_sees_controls_and_audits_the_whole_loop() {
    each_track(the_whole_loop);
}

fn the_whole_loop(track: Track) {
    let Some(world) = World::new(track) else {
        return;
    };
    let mut all = start(&world);

    // all four listed, live, within 2 s of serving
    let listed = wait_until(Duration::from_secs(2), || {
        topology(all.port).is_some_and(|t| {
            let members = presences(&t);
            members.len() == 4 && members.values().all(|p| *p == Presence::Live)
        })
    });
    assert!(listed, "topology: {:?}\n{}", topology(all.port), all.logs());
    let shown = topology(all.port).expect("a topology");
    assert_eq!(shown.nodes.len(), 4, "the Python-shaped node list too");

    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("orchestrator-page-{}", track.as_str()));
    let mut browser = Browser::open(all.port, &shots);
    if let Some(browser) = &browser {
        let ready = browser.expect("ready", LONG);
        let ids: Vec<&str> = ready["members"]
            .as_array()
            .expect("members")
            .iter()
            .filter_map(|m| m["id"].as_str())
            .collect();
        assert_eq!(ids.len(), 4, "{ready}");
        for id in ["store-a", "store-b", "p-1", "p-2"] {
            assert!(ids.contains(&id), "{id} on the page: {ready}");
        }
        assert!(
            ready["members"]
                .as_array()
                .expect("members")
                .iter()
                .all(|m| m["level"] != "hard"),
            "no store is hard before set-rate: {ready}"
        );
    }

    // set-rate: the pipelines speed up, store-b's slow sink falls behind and goes hard
    let out = all.ctl(&["set-rate", "2000"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "set-rate: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("p-1") && text.contains("p-2"), "{text}");
    // hard, with its reason, and the system unhealthy because of it
    let hard = wait_until(LONG, || {
        topology(all.port).is_some_and(|t| {
            t.stores.iter().any(|s| {
                s.id == "store-b"
                    && s.level == BackpressureLevel::Hard
                    && s.reason.starts_with("hard: queue ")
            }) && t
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("store store-b: hard: "))
        })
    });
    assert!(
        hard,
        "store-b never hard: {:?}\n{}",
        topology(all.port),
        all.logs()
    );
    if let Some(browser) = &browser {
        let line = browser.expect("hard", LONG);
        assert_eq!(line["id"], "store-b", "{line}");
    }

    // back to 100 bars/s each: store-b keeps up again and both pipelines run at full rate,
    // so that what holds them next is the pause alone
    let out = all.ctl(&["set-rate", "100"]);
    assert!(
        out.status.success(),
        "set-rate: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let full = wait_until(LONG, || {
        topology(all.port).is_some_and(|t| {
            t.pipelines
                .iter()
                .all(|p| p.scale == 1.0 && p.level == BackpressureLevel::Ok)
        })
    });
    assert!(
        full,
        "not at full rate again: {:?}\n{}",
        topology(all.port),
        all.logs()
    );
    let before = all.published();
    let running = wait_until(LONG, || {
        let now = all.published();
        now[0] > before[0] && now[1] > before[1]
    });
    assert!(running, "not publishing before the pause: {before:?}");

    // pause: both pipelines hold; the published counts stay flat for 2 s
    let out = all.ctl(&["pause"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "pause: {text}\n{}", all.logs());
    assert!(
        text.starts_with("pause all: ok (4 of 4 members answered ok)"),
        "{text}"
    );
    let mut last = all.published();
    let settled = wait_until(Duration::from_secs(10), || {
        std::thread::sleep(Duration::from_millis(500));
        let now = all.published();
        let same = now == last;
        last = now;
        same
    });
    assert!(settled, "still publishing after pause: {last:?}");
    let moved = wait_until(Duration::from_secs(2), || all.published() != last);
    assert!(
        !moved,
        "published while paused: {last:?} then {:?}",
        all.published()
    );
    let paused = topology(all.port).expect("a topology");
    assert!(
        paused.pipelines.iter().all(|p| p.paused && p.scale == 0.0),
        "{paused:?}"
    );
    assert!(paused.stores.iter().all(|s| s.paused), "{paused:?}");

    // resume: they publish again
    let out = all.ctl(&["resume"]);
    assert!(
        out.status.success(),
        "resume: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let restarted = wait_until(LONG, || {
        let now = all.published();
        now[0] > last[0] && now[1] > last[1]
    });
    assert!(
        restarted,
        "not publishing after resume: {last:?}\n{}",
        all.logs()
    );

    // the audit trail: who did what to whom, and how it went
    let trail = audits(&world);
    let actions: Vec<ControlAction> = trail.iter().map(|a| a.action).collect();
    assert_eq!(
        actions,
        [
            ControlAction::SetRate,
            ControlAction::SetRate,
            ControlAction::Pause,
            ControlAction::Resume,
        ],
        "{trail:?}"
    );
    for audit in &trail {
        assert_eq!(
            (audit.actor.as_str(), audit.role.as_str()),
            ("ops@test", "admin")
        );
        assert_eq!(audit.target.as_deref(), Some("all"));
        assert_eq!(audit.result.status, ControlStatus::Ok, "{audit:?}");
    }
    let logged = all
        .orchestrator
        .log()
        .lines()
        .filter(|l| l.contains(" audit ") && l.contains(r#"actor="ops@test""#))
        .count();
    assert_eq!(
        logged,
        4,
        "each audit in the log:\n{}",
        all.orchestrator.log()
    );

    // kill -9 of store-a: stale, then gone
    all.stores[0].kill9();
    for presence in [Presence::Stale, Presence::Gone] {
        let seen = wait_until(LONG, || {
            topology(all.port).is_some_and(|t| presences(&t)["store-a"] == presence)
        });
        assert!(seen, "store-a never {presence:?}: {:?}", topology(all.port));
    }

    // the pipelines are paused one by one (so that none is cut in the middle of a batch),
    // then stop; store-b writes everything, store-a's unacknowledged bars included
    for id in ["p-1", "p-2"] {
        let out = all.ctl(&["pause", "--target", id]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "pause {id}: {text}");
        assert!(
            text.starts_with(&format!("pause {id}: ok (1 of 1")),
            "{text}"
        );
    }
    for pipeline in &mut all.pipelines {
        assert!(
            pipeline.terminate(LONG),
            "{} did not stop:\n{}",
            pipeline.name,
            pipeline.log()
        );
    }
    let left = wait_until(LONG, || {
        topology(all.port).is_some_and(|t| {
            t.pipelines.len() == 2 && t.pipelines.iter().all(|p| p.presence == Presence::Left)
        })
    });
    assert!(
        left,
        "the pipelines did not leave: {:?}",
        topology(all.port)
    );
    let want = published_bars(&world);
    let written = wait_until(Duration::from_secs(120), || {
        world.rows() >= want.len() as u64
    });
    assert!(
        written,
        "{} of {} rows\n{}",
        world.rows(),
        want.len(),
        all.logs()
    );
    bars::assert_same(&want, &world.bars());
    world.assert_settled();
    let redelivered = metric(
        &metrics(all.store_ports[1]),
        "pulse_redeliveries_total",
        "marketdata.bars",
    );
    assert!(
        redelivered.is_some_and(|n| n > 0.0),
        "store-b took over store-a's bars: {redelivered:?}\n{}",
        all.stores[1].log()
    );

    // store-b stops gracefully: it leaves
    stop(&mut all.stores[1]);
    let left = wait_until(LONG, || {
        topology(all.port).is_some_and(|t| presences(&t)["store-b"] == Presence::Left)
    });
    assert!(left, "store-b never left: {:?}", topology(all.port));

    if let Some(browser) = &mut browser {
        let line = browser.finish();
        assert_eq!(
            line["errors"],
            Value::Array(Vec::new()),
            "the page logged errors: {line}"
        );
        for shot in ["page-ready.png", "page-hard.png", "page-end.png"] {
            assert!(
                shots.join(shot).exists(),
                "screenshot {shot} in {}",
                shots.display()
            );
        }
    }
    // mdp top shows the same members (store-a gone, store-b left)
    let out = mdp()
        .args([
            "top",
            "--once",
            "--url",
            &format!("http://127.0.0.1:{}", all.port),
        ])
        .output()
        .expect("mdp top runs");
    let frame = String::from_utf8_lossy(&out.stdout);
    for id in ["store-a", "store-b", "p-1", "p-2"] {
        assert!(frame.contains(id), "{id} in mdp top:\n{frame}");
    }

    assert!(
        all.orchestrator.terminate(LONG),
        "{}",
        all.orchestrator.log()
    );
}
