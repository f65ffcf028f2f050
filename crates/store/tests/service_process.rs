//! The store crate's own proof of its ack path: the `embed_store` example (a program that
//! embeds [`store::service::StoreService`]) as a real process over a private Redis, on the
//! defaults a user runs, killed with SIGKILL while its batch waits on SQLite's write lock,
//! then started again. The new process has a consumer name of its own (the default), so it
//! takes the dead one's entries by reclaiming them once they are idle for the default idle
//! timeout (30 s). Every entry the dead store held is redelivered and written once (taken
//! and acknowledged exactly once by the new store); the SQLite table is compared with what
//! was published, value by value; nothing stays pending and nothing is dead-lettered.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use bus::{pending, publish, unsettled};
use chrono::{DateTime, Utc};
use core_contracts::Bar;
use pulse::testing::{RedisServer, example_binary, wait_for};
use rust_decimal::Decimal;

#[path = "support/bars.rs"]
mod bars;
#[path = "support/bus.rs"]
mod bus;

/// Generous for a debug build on a loaded 2-core machine.
const LONG: Duration = Duration::from_secs(120);

/// The example as a child process, its stdout lines on a channel.
struct Store {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    log: Arc<Mutex<String>>,
}

impl Store {
    /// Starts the example with its default consumer name, and waits until it reads.
    fn spawn(dir: &Path, redis: &str, database: &Path) -> Self {
        let mut child = Command::new(example_binary("store", "embed_store"))
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("EVENT_BUS_BACKEND", "redis")
            .env("REDIS_URL", redis)
            .env("DATABASE_URL", format!("sqlite://{}", database.display()))
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let into = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = into.lock().unwrap_or_else(PoisonError::into_inner);
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let store = Self {
            child: Some(child),
            lines,
            log,
        };
        let started = store.line(LONG).unwrap_or_default();
        assert!(started.starts_with("started store-"), "{started:?}");
        store
    }

    /// The example's log so far.
    fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
    }

    /// SIGTERM, then the final counts line and the exit status.
    fn terminate(&mut self) -> (String, std::process::ExitStatus) {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let report = self.line(LONG).expect("the final counts");
        (report, child.wait().expect("exits"))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One count of the example's `stopped k=v ...` line.
fn count(report: &str, name: &str) -> u64 {
    report
        .split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {report:?}"))
}

/// Every bar in the table, read back into bars.
fn table(path: &Path) -> Vec<Bar> {
    let Ok(conn) = rusqlite::Connection::open(path) else {
        return Vec::new();
    };
    conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
    let Ok(mut stmt) = conn.prepare(
        "SELECT provider, symbol, resolution, ts, open, high, low, close, volume, delayed \
         FROM bars ORDER BY symbol, ts",
    ) else {
        return Vec::new();
    };
    let dec = |s: String| Decimal::from_str(&s).expect("a decimal");
    stmt.query_map([], |r| {
        Ok(Bar {
            provider: r.get(0)?,
            symbol: r.get(1)?,
            resolution: r.get(2)?,
            ts: DateTime::parse_from_rfc3339(&r.get::<_, String>(3)?)
                .expect("an RFC 3339 time")
                .with_timezone(&Utc),
            open: dec(r.get(4)?),
            high: dec(r.get(5)?),
            low: dec(r.get(6)?),
            close: dec(r.get(7)?),
            volume: dec(r.get(8)?),
            delayed: r.get::<_, i64>(9)? != 0,
        })
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_store_killed_mid_batch_has_every_held_entry_redelivered_and_written_once() {
    let Some(redis) = RedisServer::try_start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let database: PathBuf = dir.path().join("bars.db");
    let pulse = redis.pulse().await;
    let first = bars::bars("AAPL", 1000);
    let second = bars::bars("MSFT", 2000);

    let mut store = Store::spawn(dir.path(), &redis.url(), &database);
    publish(&pulse, &first).await;
    assert!(
        wait_for(LONG, || async {
            table(&database).len() == 1000 && unsettled(&pulse).await == 0
        })
        .await,
        "the first bars are written and acknowledged"
    );

    // The test takes SQLite's write lock: the store's next batch cannot commit (the sink
    // waits, then retries), so the store holds every entry it reads.
    let lock = rusqlite::Connection::open(&database).expect("opens the table");
    lock.execute_batch("BEGIN EXCLUSIVE").expect("write lock");
    publish(&pulse, &second).await;
    assert!(
        wait_for(LONG, || async { pending(&pulse).await == 2000 }).await,
        "the store holds every new entry: {} pending",
        pending(&pulse).await
    );
    // Mid-batch: the workers' writes of the held bars fail on the lock, often enough that
    // the breaker opens (after its default five failures in a row).
    assert!(
        wait_for(LONG, || async {
            store.log().contains("circuit breaker opened")
        })
        .await,
        "no write failed on the lock:\n{}",
        store.log()
    );
    store.kill9();
    lock.execute_batch("ROLLBACK").expect("lock released");
    drop(lock);
    assert_eq!(
        table(&database).len(),
        1000,
        "nothing of the batch was committed"
    );
    assert_eq!(
        pending(&pulse).await,
        2000,
        "the dead store's entries stay pending"
    );

    let mut again = Store::spawn(dir.path(), &redis.url(), &database);
    // The table is read in key order.
    let mut want = [first, second].concat();
    want.sort_by_key(Bar::key);
    assert!(
        wait_for(LONG, || async {
            table(&database) == want && unsettled(&pulse).await == 0
        })
        .await,
        "{} rows, {} pending",
        table(&database).len(),
        pending(&pulse).await
    );
    let (report, status) = again.terminate();
    assert!(status.success(), "{report}\n{}", again.log());
    assert_eq!(count(&report, "taken"), 2000, "{report}");
    assert_eq!(
        count(&report, "redelivered"),
        2000,
        "every held entry redelivered"
    );
    assert_eq!(count(&report, "acked"), 2000, "{report}");
    assert_eq!(count(&report, "dead_lettered"), 0, "{report}");
    assert_eq!(count(&report, "unwritten"), 0, "{report}");
    assert_eq!(table(&database), want, "written once, values intact");
    let dead_letters = dir.path().join("mdp-dead-letters.ndjson");
    let dead = std::fs::read_to_string(&dead_letters).unwrap_or_default();
    assert!(dead.is_empty(), "no dead letter: {dead}");
    assert_eq!(unsettled(&pulse).await, 0);
}
