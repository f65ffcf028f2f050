//! A private `redis-server` on a free port, with append-only persistence, that a test may
//! kill and restart without touching the shared server; optionally with a password and TLS.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process owned by one test.
pub struct RedisServer {
    /// The port it listens on (TLS-only with `tls`).
    pub port: u16,
    /// Its data directory (and certificates), removed on drop.
    pub dir: PathBuf,
    child: Option<Child>,
    password: Option<String>,
    tls: bool,
}

impl std::fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("dir", &self.dir)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl RedisServer {
    /// Starts a plain server on a free port with its data in a fresh directory.
    pub fn start() -> Self {
        Self::start_with(None, false)
    }

    /// Starts a plain server, or `None` after a [`skip`](super::skip) when `redis-server` is
    /// not installed (a failure under CI).
    pub fn try_start() -> Option<Self> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            super::skip(
                "redis-server is not installed; install it (Debian package redis-server) to run \
                 this test",
            );
            return None;
        }
        Some(Self::start())
    }

    /// Starts a server that requires `password` and, with `tls`, speaks only TLS with a
    /// certificate for 127.0.0.1 signed by the CA in [`RedisServer::ca_file`].
    pub fn start_with(password: Option<&str>, tls: bool) -> Self {
        let dir = std::env::temp_dir().join(format!("mdp-redis-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("data dir");
        let mut server = Self {
            port: free_port(),
            dir,
            child: None,
            password: password.map(str::to_owned),
            tls,
        };
        if tls {
            make_certificates(&server.dir);
        }
        server.spawn();
        server
    }

    /// The URL of this server, with its password and scheme.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let auth = self
            .password
            .as_ref()
            .map(|p| format!(":{p}@"))
            .unwrap_or_default();
        format!("{scheme}://{auth}127.0.0.1:{}/0", self.port)
    }

    /// A Pulse on this server with the default settings otherwise (namespace `mdp`), as a
    /// service on the defaults would open it.
    pub async fn pulse(&self) -> crate::Pulse {
        crate::Pulse::from_config(crate::PulseConfig {
            backend: crate::BackendKind::Redis,
            redis_url: self.url(),
            ..crate::PulseConfig::default()
        })
        .await
        .expect("the private Redis answers")
    }

    /// The CA certificate (PEM) that signed a TLS server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir);
        if self.tls {
            cmd.args([
                "--port",
                "0",
                "--tls-port",
                &self.port.to_string(),
                "--tls-auth-clients",
                "no",
            ])
            .arg("--tls-cert-file")
            .arg(self.dir.join("server.crt"))
            .arg("--tls-key-file")
            .arg(self.dir.join("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(self.ca_file());
        } else {
            cmd.args(["--port", &self.port.to_string()]);
        }
        if let Some(password) = &self.password {
            cmd.args(["--requirepass", password]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts (is it installed?)");
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

/// A CA and a server certificate for 127.0.0.1 signed by it, made with the `openssl` tool.
fn make_certificates(dir: &Path) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs (is it installed?)");
        assert!(status.success(), "openssl {args:?} failed");
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").expect("writes");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=mdp-test-ca",
    ]
    .iter()
    .copied()
    .chain(["-keyout", "ca.key", "-out", "ca.crt"])
    .collect::<Vec<_>>());
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ]);
}
