//! Shared helpers of the mdp end-to-end tests: the binary as a child process, SQLite row
//! counts, polling with deadlines, a private Redis, a PostgreSQL schema, the services' world,
//! and the CI rule (an unavailable dependency fails under CI and skips visibly otherwise).

#![allow(dead_code)]

pub(crate) mod bars;
pub(crate) mod matrix;
pub(crate) mod postgres;
pub(crate) mod proxy;
pub(crate) mod redis_server;
pub(crate) mod world;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `mdp` binary under test, without the bus and track settings of the environment (a
/// CI leg names its own: see [`matrix`]).
pub(crate) fn mdp() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mdp"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("EVENT_BUS_BACKEND")
        .env_remove("SCHEMA_TRACK")
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "info");
    cmd
}

/// Reports a missing dependency: a skip of the test (`pulse::testing::skip`: a marker
/// line, and a failure under CI).
pub(crate) fn unavailable(what: &str) {
    pulse::testing::skip(&format!("{what}; make it available to run this test"));
}

/// A free TCP port on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Rows in the `bars` table of the SQLite file at `path` (0 when it does not exist yet).
pub(crate) fn sqlite_rows(path: &Path) -> u64 {
    if !path.exists() {
        return 0;
    }
    let Ok(conn) = rusqlite::Connection::open(path) else {
        return 0;
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    conn.query_row("SELECT COUNT(*) FROM bars", [], |row| row.get::<_, i64>(0))
        .map(|n| u64::try_from(n).unwrap_or(0))
        .unwrap_or(0)
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
pub(crate) fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed on drop, whose stderr goes to a log file kept for diagnosis.
pub(crate) struct Proc {
    /// The name in messages.
    pub name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    /// Spawns `cmd` with stderr in `dir/<name>.log`.
    pub(crate) fn spawn(name: &str, mut cmd: Command, dir: &Path) -> Self {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = cmd
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("mdp starts");
        Self {
            name: name.to_owned(),
            child: Some(child),
            log,
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("running")
    }

    /// Kills with SIGKILL (kill -9) and reaps.
    pub(crate) fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits up to `timeout` for a clean exit; returns whether it exited
    /// with status 0.
    pub(crate) fn terminate(&mut self, timeout: Duration) -> bool {
        self.terminate_status(timeout) == Some(0)
    }

    /// Sends SIGTERM and waits up to `timeout` for an exit; returns its exit code (`None`
    /// when it had to be killed, or ended by a signal).
    pub(crate) fn terminate_status(&mut self, timeout: Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let mut status = None;
        wait_until(timeout, || {
            status = child.try_wait().ok().flatten();
            status.is_some()
        });
        match status {
            Some(status) => status.code(),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }

    /// Waits up to `timeout` for the process to exit by itself; returns its success.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<bool> {
        let child = self.child.as_mut()?;
        let mut status = None;
        wait_until(timeout, || {
            status = child.try_wait().ok().flatten();
            status.is_some()
        });
        if status.is_some() {
            self.child = None;
        }
        status.map(|s| s.success())
    }

    /// The log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `cmd` to completion.
pub(crate) fn output(mut cmd: Command) -> Output {
    cmd.output().expect("mdp runs")
}

/// The status code and body of `GET http://127.0.0.1:{port}{path}`, if the server answers.
pub(crate) fn http_get_status(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let code = head.split(' ').nth(1)?.parse().ok()?;
    Some((code, body.to_owned()))
}

/// The body of `GET http://127.0.0.1:{port}{path}`, if the server answers 200.
pub(crate) fn http_get(port: u16, path: &str) -> Option<String> {
    http_get_status(port, path)
        .filter(|(code, _)| *code == 200)
        .map(|(_, body)| body)
}

/// The status code and body of `POST http://127.0.0.1:{port}{path}` with `token` as a
/// bearer credential, if the server answers.
pub(crate) fn http_post(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .ok()?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let code = head.split(' ').nth(1)?.parse().ok()?;
    Some((code, body.to_owned()))
}

/// The `/metrics` text of a process serving HTTP on `port` (empty when it does not answer).
pub(crate) fn metrics(port: u16) -> String {
    http_get(port, "/metrics").unwrap_or_default()
}

/// The rate scale a pipeline serving HTTP on `port` has in force.
pub(crate) fn scale(port: u16) -> Option<f64> {
    metric(&metrics(port), "pipeline_rate_scale_factor", "ibkr")
}

/// The bars a pipeline serving HTTP on `port` has published.
pub(crate) fn published(port: u16) -> Option<f64> {
    metric(&metrics(port), "mdp_pipeline_bars_published_total", "")
}

/// The value of the first sample of metric `name` whose line contains `label` in a
/// Prometheus text exposition.
pub(crate) fn metric(text: &str, name: &str, label: &str) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .find_map(|l| l.rsplit(' ').next()?.parse().ok())
}
