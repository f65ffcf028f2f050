//! One end-to-end test's world: a private Redis, a temp dir, a database (a SQLite file, or a
//! PostgreSQL schema of its own), fast timings, a schema track, and `mdp store`/`mdp
//! pipeline` processes on them.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use core_contracts::Track;

use super::bars::{self, Bars};
use super::postgres::PgSchema;
use super::proxy::TcpProxy;
use super::redis_server::RedisServer;
use super::{Proc, mdp, sqlite_rows, wait_until};

/// How long a run may take before a test gives up.
pub(crate) const LONG: Duration = Duration::from_secs(60);

/// The database the stores write to.
pub(crate) enum Db {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL schema, dropped with the world.
    Postgres(Box<PgSchema>),
}

/// A private Redis, a temp dir and a database.
pub(crate) struct World {
    /// The Redis server of this test.
    pub redis: RedisServer,
    /// The working directory of the processes (logs, dead-letter files, checkpoint).
    pub dir: tempfile::TempDir,
    /// The database.
    pub db: Db,
    /// Whether processes get the fast test timings (small queue, short heartbeats and idle
    /// timeout) or run on the defaults a user runs.
    tuned: bool,
    /// The sink URL stores get instead of the database's own (e.g. through a proxy).
    sink_url: Option<String>,
    /// Whether processes join a Python deployment (`PULSE_COMPAT=python`), which puts every
    /// key under the Python prefix `mdp:`.
    python: bool,
    /// The schema track the processes write (`SCHEMA_TRACK`).
    track: Track,
}

impl World {
    /// A world on SQLite whose processes write `track`; `None` after a skip without
    /// `redis-server`.
    pub(crate) fn new(track: Track) -> Option<Self> {
        let redis = RedisServer::start()?;
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::Sqlite(dir.path().join("bars.db"));
        Some(Self {
            redis,
            dir,
            db,
            tuned: true,
            sink_url: None,
            python: false,
            track,
        })
    }

    /// The same world whose processes run on the default settings (only the bus and the
    /// database are named).
    pub(crate) fn on_defaults(mut self) -> Self {
        self.tuned = false;
        self
    }

    /// The same world whose processes run with `PULSE_COMPAT=python`.
    pub(crate) fn python_compat(mut self) -> Self {
        self.python = true;
        self
    }

    /// The schema track the processes write.
    pub(crate) fn track(&self) -> Track {
        self.track
    }

    /// The Redis key of stream `name` (e.g. `mdp.marketdata.bars`) as the processes see it.
    pub(crate) fn key(&self, name: &str) -> String {
        if self.python {
            format!("mdp:{name}")
        } else {
            name.to_owned()
        }
    }

    /// A world on a PostgreSQL schema of its own whose processes write `track`; `None` after
    /// a skip without `redis-server` or a reachable server.
    pub(crate) fn postgres(track: Track) -> Option<Self> {
        let schema = PgSchema::new()?;
        let mut world = Self::new(track)?;
        world.db = Db::Postgres(Box::new(schema));
        Some(world)
    }

    /// `mdp <args>` with the world's bus, timings and database settings.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = mdp();
        cmd.current_dir(self.dir.path())
            .env("EVENT_BUS_BACKEND", "redis")
            .env("REDIS_URL", self.redis.url())
            .env("SCHEMA_TRACK", self.track.as_str());
        if let Db::Postgres(schema) = &self.db {
            cmd.env("MDS_PG_SCHEMA", &schema.name);
        }
        if self.python {
            cmd.env("PULSE_COMPAT", "python");
        }
        cmd.args(args);
        if !self.tuned {
            return cmd;
        }
        cmd.env("MDS_FB_HEARTBEAT_SEC", "0.3")
            .env("MDP_FB_HEARTBEAT_SEC", "0.3")
            .env("MDP_FB_FORGET_AFTER_SEC", "2")
            .env("PULSE_IDLE_TIMEOUT_MS", "1000")
            .env("PULSE_BLOCK_MS", "100")
            .env("MDS_COORDINATOR_CAPACITY", "1000")
            .env("MDS_COORDINATOR_BATCH_SIZE", "200")
            .env("MDS_COORDINATOR_FLUSH_INTERVAL", "0.05");
        cmd
    }

    /// Stores reach PostgreSQL through a proxy the test can cut; the proxy is returned.
    pub(crate) fn through_proxy(mut self) -> (Self, TcpProxy) {
        let Db::Postgres(schema) = &self.db else {
            panic!("a proxy stands in front of PostgreSQL only");
        };
        let (head, rest) = schema.url.split_once('@').expect("user@host in the URL");
        let (addr, tail) = rest.split_once('/').expect("a database in the URL");
        let target = std::net::ToSocketAddrs::to_socket_addrs(addr)
            .ok()
            .and_then(|mut a| a.next())
            .expect("a PostgreSQL address");
        let proxy = TcpProxy::start(target);
        self.sink_url = Some(format!("{head}@127.0.0.1:{}/{tail}", proxy.port()));
        (self, proxy)
    }

    /// The sink URL of the database.
    pub(crate) fn sink(&self) -> String {
        if let Some(url) = &self.sink_url {
            return url.clone();
        }
        match &self.db {
            Db::Sqlite(path) => format!("sqlite://{}", path.display()),
            Db::Postgres(schema) => schema.url.clone(),
        }
    }

    /// `mdp store` named `name` (also its consumer name) on a free port.
    pub(crate) fn store(&self, name: &str, extra: &[&str], env: &[(&str, &str)]) -> Proc {
        self.store_at(name, 0, extra, env)
    }

    /// `mdp store` named `name` serving HTTP on `port`.
    pub(crate) fn store_at(
        &self,
        name: &str,
        port: u16,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Proc {
        let sink = self.sink();
        let port = port.to_string();
        let mut cmd = self.command(&[
            "store",
            "--port",
            &port,
            "--consumer",
            name,
            "--sink",
            &sink,
        ]);
        cmd.args(extra).envs(env.iter().copied());
        Proc::spawn(name, cmd, self.dir.path())
    }

    /// `mdp pipeline` with a checkpoint in the world's dir.
    pub(crate) fn pipeline(&self, name: &str, args: &[&str]) -> Proc {
        self.pipeline_with(name, args, &[])
    }

    /// `mdp pipeline` with a checkpoint in the world's dir and `env` on top of the world's.
    pub(crate) fn pipeline_with(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let checkpoint = self.dir.path().join("pipeline.checkpoint");
        let mut cmd = self.command(&["pipeline", "--checkpoint"]);
        cmd.arg(checkpoint).args(args).envs(env.iter().copied());
        Proc::spawn(name, cmd, self.dir.path())
    }

    /// `mdp pipeline` named `name` serving HTTP on `port`, with a checkpoint of its own and
    /// `env` on top of the world's.
    pub(crate) fn pipeline_at(
        &self,
        name: &str,
        port: u16,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Proc {
        let checkpoint = self.dir.path().join(format!("{name}.checkpoint"));
        let port = port.to_string();
        let mut cmd = self.command(&["pipeline", "--port", &port, "--checkpoint"]);
        cmd.arg(checkpoint).args(args).envs(env.iter().copied());
        Proc::spawn(name, cmd, self.dir.path())
    }

    /// Rows in the bars table.
    pub(crate) fn rows(&self) -> u64 {
        match &self.db {
            Db::Sqlite(path) => sqlite_rows(path),
            Db::Postgres(schema) => schema.rows(),
        }
    }

    /// Every bar in the database, by key.
    pub(crate) fn bars(&self) -> Bars {
        match &self.db {
            Db::Sqlite(path) => bars::sqlite(path),
            Db::Postgres(schema) => schema.bars(),
        }
    }

    /// Entries of the bars stream's dead-letter stream.
    pub(crate) fn dead_letters(&self) -> u64 {
        self.redis.len(&self.key("mdp.marketdata.bars.dlq"))
    }

    /// Checks the bus is settled: nothing pending in group `store`, no dead letter.
    pub(crate) fn assert_settled(&self) {
        assert!(
            super::wait_until(LONG, || self.pending() == 0),
            "{} entries still pending",
            self.pending()
        );
        assert_eq!(
            self.dead_letters(),
            0,
            "no entry may be dead-lettered on the bus"
        );
        let file = self.dir.path().join("mdp-dead-letters.ndjson");
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(text.trim().is_empty(), "bars were dead-lettered:\n{text}");
    }

    /// Waits until at least `n` rows are in the database.
    pub(crate) fn wait_rows(&self, n: u64, timeout: Duration) -> bool {
        wait_until(timeout, || self.rows() >= n)
    }

    /// Entries of the bars stream delivered to group `store` and not yet acknowledged.
    pub(crate) fn pending(&self) -> u64 {
        self.redis
            .pending(&self.key("mdp.marketdata.bars"), "store")
    }
}

/// Waits for `pipeline` to exit by itself with success.
pub(crate) fn finish(pipeline: &mut Proc) {
    assert_eq!(
        pipeline.wait_exit(LONG),
        Some(true),
        "pipeline did not finish well:\n{}",
        pipeline.log()
    );
}

/// Waits until `n` rows are in the database, then checks that they are the first `n` bars
/// of the default synthetic source, value by value, and that nothing is left pending or
/// dead-lettered on the bus.
pub(crate) fn all_written(world: &World, n: u64, stores: &[&Proc]) {
    let done = wait_until(LONG, || world.rows() >= n);
    let logs: Vec<String> = stores.iter().map(|s| s.log()).collect();
    assert!(
        done,
        "{} of {n} rows; logs:\n{}",
        world.rows(),
        logs.join("\n")
    );
    bars::assert_same(&bars::source(Some(n), None), &world.bars());
    world.assert_settled();
}

/// Stops `store` with SIGTERM and checks it exited cleanly.
pub(crate) fn stop(store: &mut Proc) {
    let code = store.terminate_status(Duration::from_secs(20));
    assert_eq!(
        code,
        Some(0),
        "{} did not stop cleanly (exit code {code:?}, None: killed after 20 s):\n{}",
        store.name,
        store.log()
    );
}
