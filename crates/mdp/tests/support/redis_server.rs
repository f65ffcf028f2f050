//! A private `redis-server` on a free port, with append-only persistence, that a test may
//! kill and restart without touching any shared server.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process owned by one test.
pub struct RedisServer {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port with its data in a fresh directory, or `None` (after
    /// a loud message) when `redis-server` is not installed; under `CI=true` that fails.
    pub fn start() -> Option<Self> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            super::unavailable("redis-server is not installed");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("mdp-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("data dir");
        let mut server = Self {
            port: super::free_port(),
            dir,
            child: None,
        };
        server.spawn();
        Some(server)
    }

    /// The URL of this server.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("private redis-server on port {} did not come up", self.port);
    }

    /// Entries of stream `key` delivered to `group` and not yet acknowledged (0 when the
    /// stream or group does not exist yet).
    pub fn pending(&self, key: &str, group: &str) -> u64 {
        use redis::Commands;
        let Ok(mut con) = redis::Client::open(self.url()).and_then(|c| c.get_connection()) else {
            return 0;
        };
        con.xpending::<_, _, redis::streams::StreamPendingReply>(key, group)
            .map(|reply| reply.count() as u64)
            .unwrap_or(0)
    }

    /// Entries in stream `key`.
    pub fn len(&self, key: &str) -> u64 {
        use redis::Commands;
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .and_then(|mut con| con.xlen(key))
            .unwrap_or(0)
    }

    /// Kills the server with SIGKILL and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and data directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
