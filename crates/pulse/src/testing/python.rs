//! [`PythonPeer`]: the Python originals (market-data-core, market-data-store) as a test's
//! peer, run through `interop/python/mdp_interop.py` in the venv `scripts/python-env.sh`
//! builds, and [`PeerProcess`]: one such command running, read line by line.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The Python originals, ready to run; see `interop/python/mdp_interop.py` for the commands.
#[derive(Debug, Clone)]
pub struct PythonPeer {
    python: PathBuf,
    script: PathBuf,
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `MDP_PYTHON`, or the interpreter `scripts/python-env.sh` prints (building its venv).
fn interpreter() -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("MDP_PYTHON").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(python));
    }
    let script = repository().join("scripts/python-env.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

impl PythonPeer {
    /// The Python peer, or `None` after a [`skip`](super::skip) when it cannot be set up (a
    /// failure under CI). The venv is set up once per test process.
    pub fn find() -> Option<Self> {
        static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        match FOUND.get_or_init(interpreter) {
            Ok(python) => Some(Self {
                python: python.clone(),
                script: repository().join("interop/python/mdp_interop.py"),
            }),
            Err(why) => {
                super::skip(&format!("the Python originals are not available: {why}"));
                None
            }
        }
    }

    /// `mdp_interop.py` with `args`, its I/O in UTF-8 and unbuffered.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.python);
        command
            .arg(&self.script)
            .args(args)
            .env("PYTHONIOENCODING", "utf-8")
            .env("PYTHONUNBUFFERED", "1");
        command
    }

    /// Starts `mdp_interop.py` with `args` and `env` as a [`PeerProcess`].
    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> PeerProcess {
        let mut child = self
            .command(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the Python peer starts");
        let (tx, lines) = channel();
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = BufReader::new(child.stderr.take().expect("stderr"));
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                if let Ok(mut all) = sink.lock() {
                    all.push_str(&line);
                    all.push('\n');
                }
            }
        });
        PeerProcess {
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
            stderr,
        }
    }
}

/// A running `mdp_interop.py` command: lines to its stdin, its stdout read as it comes;
/// killed when dropped.
pub struct PeerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

impl std::fmt::Debug for PeerProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerProcess")
            .field("pid", &self.child.id())
            .field("lines_seen", &self.seen.len())
            .finish_non_exhaustive()
    }
}

impl PeerProcess {
    /// Writes `line` to the command's stdin.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .expect("the Python peer reads its stdin");
    }

    /// The first line from now on for which `wanted` holds; fails naming `what`, with every
    /// line and the stderr seen, when none comes within `timeout` or the command ends.
    pub fn wait_line(
        &mut self,
        what: &str,
        timeout: Duration,
        mut wanted: impl FnMut(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => self.fail(what, "no such line came"),
                Err(RecvTimeoutError::Disconnected) => self.fail(what, "the command ended"),
            }
        }
    }

    /// Every line read so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    fn fail(&mut self, what: &str, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stderr = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        panic!(
            "Python peer: waiting for {what}: {why}\nstdout:\n{}\nstderr:\n{stderr}",
            self.seen.join("\n")
        )
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
