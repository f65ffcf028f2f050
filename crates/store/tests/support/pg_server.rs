//! A private PostgreSQL server for one test: its own data directory (a temp dir) and a free
//! loopback port, with or without TLS. With TLS its certificate, for `localhost` only, is
//! signed by a private CA the test makes ([`PgServer::ca_file`]). `pg_hba.conf` trusts
//! `hostssl` and `host` connections from 127.0.0.1. The server is stopped by its pid on drop;
//! the shared server of `MDP_TEST_DATABASE_URL` is never touched.
//!
//! `initdb` and `postgres` come from the newest `/usr/lib/postgresql/<version>/bin` (else
//! `PATH`); run as root they run as the `postgres` OS user, since PostgreSQL refuses root.
//! When the server cannot start the test is skipped (`pulse::testing::skip`: a marker line,
//! and a failure under CI).

#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tokio_postgres::{Client, Config, NoTls};

/// A running private server.
pub(crate) struct PgServer {
    /// The loopback port it listens on (127.0.0.1 only).
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl PgServer {
    /// A server with TLS on (`tls`) or off, or `None` after a skip when it cannot start (a
    /// failure under CI).
    pub(crate) async fn try_start(tls: bool) -> Option<Self> {
        let started = tokio::task::spawn_blocking(move || Self::start(tls))
            .await
            .expect("start task");
        match started {
            Ok(server) => match server.wait_ready().await {
                Ok(()) => Some(server),
                Err(e) => skip_or_fail(&e),
            },
            Err(e) => skip_or_fail(&e),
        }
    }

    /// `postgres://postgres@{host}:{port}/postgres?{params}`.
    pub(crate) fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://postgres@{host}:{}/postgres?{params}", self.port)
    }

    /// The PEM certificate of the CA that signed the server's certificate.
    pub(crate) fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A plain (`sslmode=disable`) client of the server, for setting up and reading back.
    pub(crate) async fn admin(&self) -> Client {
        connect_plain(self.port)
            .await
            .expect("the private server answers")
    }

    fn start(tls: bool) -> Result<Self, String> {
        let bin = bin_dir()?;
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let owner = server_user()?;
        let data = dir.path().join("data");
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", dir.path().display()))?;
        }
        let log = dir.path().join("server.log");
        let status = as_server_user(Command::new(bin.join("initdb")), owner)
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            .args(["--no-sync", "--no-instructions"])
            .stdout(Stdio::null())
            .stderr(log_file(&log)?)
            .status()
            .map_err(|e| format!("initdb: {e}"))?;
        if !status.success() {
            return Err(format!("initdb failed ({status}): {}", read(&log)));
        }
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostssl all all 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| format!("pg_hba.conf: {e}"))?;
        if tls {
            make_certificates(dir.path(), owner)?;
        }
        let port = free_port()?;
        let mut postgres = as_server_user(Command::new(bin.join("postgres")), owner);
        postgres
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", dir.path().display()))
            .args(["-c", "fsync=off", "-c", "max_connections=40"])
            .args(["-c", if tls { "ssl=on" } else { "ssl=off" }]);
        if tls {
            postgres
                .arg("-c")
                .arg(format!(
                    "ssl_cert_file={}",
                    dir.path().join("server.crt").display()
                ))
                .arg("-c")
                .arg(format!(
                    "ssl_key_file={}",
                    dir.path().join("server.key").display()
                ));
        }
        let child = postgres
            .stdout(Stdio::null())
            .stderr(log_file(&log)?)
            .spawn()
            .map_err(|e| format!("postgres: {e}"))?;
        Ok(Self { port, dir, child })
    }

    async fn wait_ready(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match connect_plain(self.port).await {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!(
                        "not ready on port {} after 30 s ({e}): {}",
                        self.port,
                        read(&self.dir.path().join("server.log"))
                    ));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown, which ends the sessions and exits.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill")
            .args(["-INT", &pid])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skip_or_fail<T>(reason: &str) -> Option<T> {
    pulse::testing::skip(&format!(
        "a private PostgreSQL server could not start ({reason}); install postgresql (initdb)"
    ));
    None
}

async fn connect_plain(port: u16) -> Result<Client, tokio_postgres::Error> {
    let mut config = Config::from_str(&format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable"
    ))?;
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// The newest `/usr/lib/postgresql/<version>/bin` with an `initdb`, else the `PATH`'s.
fn bin_dir() -> Result<PathBuf, String> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let which = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .map_err(|e| format!("sh: {e}"))?;
    let found = String::from_utf8_lossy(&which.stdout).trim().to_owned();
    Path::new(&found)
        .parent()
        .filter(|_| which.status.success() && !found.is_empty())
        .map(Path::to_path_buf)
        .ok_or_else(|| "initdb not found in /usr/lib/postgresql/*/bin or PATH".to_owned())
}

/// The `postgres` user's uid and gid when running as root (PostgreSQL refuses root), `None`
/// otherwise (the server runs as the current user).
fn server_user() -> Result<Option<(u32, u32)>, String> {
    let id = |args: &[&str]| -> Result<u32, String> {
        let out = Command::new("id")
            .args(args)
            .output()
            .map_err(|e| format!("id: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| {
                format!(
                    "id {args:?} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
    };
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    Ok(Some((id(&["-u", "postgres"])?, id(&["-g", "postgres"])?)))
}

fn as_server_user(mut cmd: Command, owner: Option<(u32, u32)>) -> Command {
    use std::os::unix::process::CommandExt as _;
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    cmd
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("free port: {e}"))
}

fn log_file(path: &Path) -> Result<File, String> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `ca.crt` (a private CA) and `server.crt`/`server.key` (for `localhost`, signed by it) in
/// `dir`; the key readable by the server's user only, as PostgreSQL demands.
fn make_certificates(dir: &Path, owner: Option<(u32, u32)>) -> Result<(), String> {
    let fail = |e: rcgen::Error| format!("certificate: {e}");
    let ca_key = KeyPair::generate().map_err(fail)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "mdp test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).map_err(fail)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate().map_err(fail)?;
    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).map_err(fail)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = server.signed_by(&key, &issuer).map_err(fail)?;

    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    write("ca.crt", ca_cert.pem())?;
    write("server.crt", cert.pem())?;
    write("server.key", key.serialize_pem())?;
    let key_path = dir.join("server.key");
    std::fs::set_permissions(
        &key_path,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .map_err(|e| format!("chmod server.key: {e}"))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&key_path, Some(uid), Some(gid))
            .map_err(|e| format!("chown server.key: {e}"))?;
    }
    Ok(())
}
