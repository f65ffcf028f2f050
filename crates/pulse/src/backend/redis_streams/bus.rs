//! [`RedisStreamsBus`]: the [`EventBus`] on Redis Streams. Commands share one multiplexed
//! connection; trimming and backlogs read the groups' positions (`XINFO GROUPS`, `XPENDING`).

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use redis::{Client, Script, Value};

use super::connection::{bounded, manager_config, open_client};
use super::reader::RedisReader;
use super::reply::{GroupInfo, as_int, as_string, parse_entries, parse_groups, pending_count};
use crate::backend::entry::{self, DeadLetter, Fields, RawEntry};
use crate::backend::retention::{self, Backlog, EntryId, GroupPosition};
use crate::backend::{EventBus, FailOutcome, FailPolicy, StreamReader};
use crate::config::redact_url;
use crate::{BusError, PulseConfig, Retention};

/// Entries per `XRANGE` page when counting a backlog that `XINFO GROUPS` cannot tell.
const BACKLOG_SCAN_PAGE: usize = 10_000;
/// Most entries counted that way: beyond it the undelivered count is a lower bound.
const BACKLOG_SCAN_LIMIT: u64 = 1_000_000;

/// Refreshes the idle time of the entries (`ARGV[3..]`) of `KEYS[1]` pending in group
/// `ARGV[1]` that consumer `ARGV[2]` still owns; returns how many. Atomic, so an entry
/// another consumer reclaimed is never taken back from it.
static TOUCH_OWNED: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local touched = 0
for i = 3, #ARGV do
  local row = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if row and row[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    touched = touched + 1
  end
end
return touched
",
    )
});

/// A Redis Streams bus. Commands share one multiplexed connection that reconnects with
/// backoff; every reader gets a connection of its own.
#[derive(Clone)]
pub struct RedisStreamsBus {
    client: Client,
    conn: ConnectionManager,
    url: String,
    read_timeout: Duration,
}

impl std::fmt::Debug for RedisStreamsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStreamsBus")
            .field("url", &self.url)
            .finish()
    }
}

impl RedisStreamsBus {
    /// Opens a bus on `config.redis_url`. The connection is made lazily, so this succeeds
    /// while Redis is down; commands then fail with [`BusError::Unavailable`] until it is up.
    pub async fn connect(config: &PulseConfig) -> Result<Self, BusError> {
        let url = redact_url(&config.redis_url);
        let client = open_client(config)
            .map_err(|e| BusError::Command(format!("invalid REDIS_URL {url}: {e}")))?;
        let conn = ConnectionManager::new_lazy_with_config(
            client.clone(),
            manager_config(Duration::from_secs(2)),
        )
        .map_err(|e| BusError::Unavailable(format!("{url}: {e}")))?;
        Ok(Self {
            client,
            conn,
            url,
            read_timeout: config.block + Duration::from_secs(2),
        })
    }

    async fn run<T, F>(&self, what: &str, fut: F) -> Result<T, BusError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        bounded(&self.url, what, fut).await
    }

    /// `XINFO GROUPS key`: every group's position.
    async fn groups(&self, key: &str) -> Result<Vec<GroupInfo>, BusError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XINFO");
        cmd.arg("GROUPS").arg(key);
        let reply: Value = self.run("XINFO GROUPS", cmd.query_async(&mut conn)).await?;
        Ok(parse_groups(&reply))
    }

    /// The oldest pending id of `group` (`XPENDING key group`, summary form).
    async fn oldest_pending(&self, key: &str, group: &[u8]) -> Result<Option<EntryId>, BusError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XPENDING");
        cmd.arg(key).arg(group);
        let reply: Value = self.run("XPENDING", cmd.query_async(&mut conn)).await?;
        let Value::Array(summary) = reply else {
            return Ok(None);
        };
        Ok(summary
            .get(1)
            .and_then(as_string)
            .and_then(|id| EntryId::parse(&id)))
    }

    /// Entries of `key` after `after`, counted by `XRANGE` pages of [`BACKLOG_SCAN_PAGE`] up
    /// to [`BACKLOG_SCAN_LIMIT`] (where `XINFO GROUPS` reports no `lag`: after deletions in
    /// the stream, or for a group positioned at an arbitrary id).
    async fn count_after(&self, key: &str, after: EntryId) -> Result<u64, BusError> {
        let mut conn = self.conn.clone();
        let mut from = after;
        let mut counted = 0u64;
        while counted < BACKLOG_SCAN_LIMIT {
            let mut cmd = redis::cmd("XRANGE");
            cmd.arg(key)
                .arg(format!("({from}"))
                .arg("+")
                .arg("COUNT")
                .arg(BACKLOG_SCAN_PAGE);
            let reply: Value = self.run("XRANGE", cmd.query_async(&mut conn)).await?;
            let page = parse_entries(&reply);
            counted += page.len() as u64;
            match page.last().and_then(|e| EntryId::parse(&e.id)) {
                Some(last) if page.len() == BACKLOG_SCAN_PAGE => from = last,
                _ => break,
            }
        }
        Ok(counted)
    }
}

fn xadd<N, V>(key: &str, retention: Retention, fields: &[(N, V)]) -> redis::Cmd
where
    N: redis::ToRedisArgs,
    V: redis::ToRedisArgs,
{
    let mut cmd = redis::cmd("XADD");
    cmd.arg(key);
    if let Retention::MaxLen(maxlen) = retention {
        cmd.arg("MAXLEN").arg("~").arg(maxlen);
    }
    cmd.arg("*");
    for (name, value) in fields {
        cmd.arg(name).arg(value);
    }
    cmd
}

fn dlq_add(
    key: &str,
    original_id: &str,
    reason: &str,
    deliveries: u32,
    original: &[(Vec<u8>, Vec<u8>)],
) -> redis::Cmd {
    let fields = entry::dead_letter_fields(original_id, reason, deliveries, original);
    xadd(&format!("{key}.dlq"), Retention::Acknowledged, &fields)
}

/// Whether a command failed because the stream does not exist (`XINFO` on a missing key).
fn is_missing(error: &BusError) -> bool {
    matches!(error, BusError::Command(msg) if msg.contains("no such key"))
}

#[async_trait]
impl EventBus for RedisStreamsBus {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn publish(
        &self,
        key: &str,
        data: &str,
        retention: Retention,
    ) -> Result<String, BusError> {
        let mut conn = self.conn.clone();
        let cmd = xadd(key, retention, &[(entry::DATA_FIELD, data)]);
        self.run("XADD", cmd.query_async(&mut conn)).await
    }

    async fn publish_batch(
        &self,
        key: &str,
        data: &[String],
        retention: Retention,
    ) -> Result<Vec<String>, BusError> {
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for d in data {
            pipe.add_command(xadd(key, retention, &[(entry::DATA_FIELD, d)]));
        }
        let mut conn = self.conn.clone();
        self.run("XADD batch", pipe.query_async(&mut conn)).await
    }

    async fn publish_raw(
        &self,
        key: &str,
        entries: &[Fields],
        retention: Retention,
    ) -> Result<Vec<String>, BusError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for fields in entries {
            pipe.add_command(xadd(key, retention, fields));
        }
        let mut conn = self.conn.clone();
        self.run("XADD raw", pipe.query_async(&mut conn)).await
    }

    async fn trim_acknowledged(&self, key: &str) -> Result<u64, BusError> {
        let groups = match self.groups(key).await {
            Err(e) if is_missing(&e) => return Ok(0),
            other => other?,
        };
        let mut positions = Vec::with_capacity(groups.len());
        for group in &groups {
            let oldest_pending = if group.pending > 0 {
                self.oldest_pending(key, &group.name).await?
            } else {
                None
            };
            positions.push(GroupPosition {
                last_delivered: group.last_delivered,
                oldest_pending,
            });
        }
        // Groups only move forward (reads and acks), so a point computed from this snapshot
        // is at or below the one of any later moment: trimming below it deletes nothing a
        // group still needs.
        let Some(point) = retention::trim_point(&positions) else {
            return Ok(0);
        };
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XTRIM");
        cmd.arg(key).arg("MINID").arg("~").arg(point.to_string());
        self.run("XTRIM MINID", cmd.query_async(&mut conn)).await
    }

    async fn backlog(&self, key: &str, group: &str) -> Result<Backlog, BusError> {
        let groups = match self.groups(key).await {
            Err(e) if is_missing(&e) => return Ok(Backlog::default()),
            other => other?,
        };
        let Some(info) = groups.into_iter().find(|g| g.name == group.as_bytes()) else {
            return Ok(Backlog::default());
        };
        let undelivered = match info.lag {
            Some(lag) => lag,
            None => self.count_after(key, info.last_delivered).await?,
        };
        Ok(Backlog {
            undelivered,
            pending: info.pending,
        })
    }

    async fn ensure_group(&self, key: &str, group: &str) -> Result<(), BusError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XGROUP");
        cmd.arg("CREATE")
            .arg(key)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM");
        let result: Result<(), BusError> =
            self.run("XGROUP CREATE", cmd.query_async(&mut conn)).await;
        match result {
            Err(BusError::Command(msg)) if msg.contains("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    async fn reader(&self) -> Result<Box<dyn StreamReader>, BusError> {
        let conn = bounded(
            &self.url,
            "connect reader",
            ConnectionManager::new_with_config(
                self.client.clone(),
                manager_config(self.read_timeout),
            ),
        )
        .await?;
        Ok(Box::new(RedisReader::new(conn, self.url.clone())))
    }

    async fn ack(&self, key: &str, group: &str, ids: &[String]) -> Result<(), BusError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XACK");
        cmd.arg(key).arg(group).arg(ids);
        self.run("XACK", cmd.query_async::<i64>(&mut conn))
            .await
            .map(drop)
    }

    async fn touch(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        ids: &[String],
    ) -> Result<u64, BusError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = self.conn.clone();
        let mut invocation = TOUCH_OWNED.key(key);
        invocation.arg(group).arg(consumer).arg(ids);
        self.run(
            "touch (XCLAIM JUSTID of owned entries)",
            invocation.invoke_async(&mut conn),
        )
        .await
    }

    async fn fail(
        &self,
        key: &str,
        group: &str,
        consumer: &str,
        id: &str,
        reason: &str,
        policy: FailPolicy,
    ) -> Result<FailOutcome, BusError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XPENDING");
        cmd.arg(key).arg(group).arg(id).arg(id).arg(1);
        let reply: Value = self.run("XPENDING", cmd.query_async(&mut conn)).await?;
        let deliveries = pending_count(&reply).ok_or_else(|| {
            BusError::Command(format!("entry {id} is not pending in group {group:?}"))
        })?;
        if deliveries < policy.max_deliveries {
            let mut cmd = redis::cmd("XCLAIM");
            cmd.arg(key)
                .arg(group)
                .arg(consumer)
                .arg(0)
                .arg(id)
                .arg("IDLE")
                .arg(policy.idle_timeout.as_millis() as u64)
                .arg("JUSTID");
            self.run("XCLAIM IDLE", cmd.query_async::<Value>(&mut conn))
                .await?;
            return Ok(FailOutcome::Redelivered { deliveries });
        }
        let mut cmd = redis::cmd("XRANGE");
        cmd.arg(key).arg(id).arg(id);
        let entries: Value = self.run("XRANGE", cmd.query_async(&mut conn)).await?;
        let fields = parse_entries(&entries)
            .into_iter()
            .next()
            .map(|e| e.fields)
            .unwrap_or_default();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .add_command(dlq_add(key, id, reason, deliveries, &fields))
            .ignore()
            .cmd("XACK")
            .arg(key)
            .arg(group)
            .arg(id)
            .ignore();
        self.run("dead-letter", pipe.query_async::<()>(&mut conn))
            .await?;
        Ok(FailOutcome::DeadLettered { deliveries })
    }

    async fn dead_letter(
        &self,
        key: &str,
        group: &str,
        entry: &RawEntry,
        reason: &str,
        deliveries: u32,
    ) -> Result<(), BusError> {
        let mut conn = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .add_command(dlq_add(key, &entry.id, reason, deliveries, &entry.fields))
            .ignore()
            .cmd("XACK")
            .arg(key)
            .arg(group)
            .arg(&entry.id)
            .ignore();
        self.run("dead-letter", pipe.query_async::<()>(&mut conn))
            .await
    }

    async fn dead_letters(&self, key: &str, count: usize) -> Result<Vec<DeadLetter>, BusError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XRANGE");
        cmd.arg(format!("{key}.dlq"))
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(count);
        let reply: Value = self.run("XRANGE", cmd.query_async(&mut conn)).await?;
        Ok(parse_entries(&reply)
            .into_iter()
            .map(|e| entry::parse_dead_letter(e.id, e.fields))
            .collect())
    }

    async fn remove_dead_letters(&self, key: &str, ids: &[String]) -> Result<(), BusError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XDEL");
        cmd.arg(format!("{key}.dlq")).arg(ids);
        self.run("XDEL", cmd.query_async::<i64>(&mut conn))
            .await
            .map(drop)
    }

    async fn read_latest(&self, key: &str, count: usize) -> Result<Vec<RawEntry>, BusError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XREVRANGE");
        cmd.arg(key).arg("+").arg("-").arg("COUNT").arg(count);
        let reply: Value = self.run("XREVRANGE", cmd.query_async(&mut conn)).await?;
        let mut entries = parse_entries(&reply);
        entries.reverse();
        Ok(entries)
    }

    async fn len(&self, key: &str) -> Result<u64, BusError> {
        let mut conn = self.conn.clone();
        self.run("XLEN", redis::cmd("XLEN").arg(key).query_async(&mut conn))
            .await
    }

    async fn pending(&self, key: &str, group: &str) -> Result<u64, BusError> {
        let mut conn = self.conn.clone();
        let reply: Value = self
            .run(
                "XPENDING",
                redis::cmd("XPENDING")
                    .arg(key)
                    .arg(group)
                    .query_async(&mut conn),
            )
            .await?;
        match reply {
            Value::Array(items) => Ok(items.first().and_then(as_int).unwrap_or(0).max(0) as u64),
            _ => Ok(0),
        }
    }

    async fn survives_restart(&self) -> Result<Option<bool>, BusError> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("CONFIG");
        cmd.arg("GET").arg("appendonly");
        match self
            .run("CONFIG GET", cmd.query_async::<Vec<String>>(&mut conn))
            .await
        {
            Ok(pair) => Ok(pair.get(1).map(|v| v.eq_ignore_ascii_case("yes"))),
            Err(BusError::Command(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn health(&self) -> BTreeMap<String, String> {
        let mut conn = self.conn.clone();
        let status = match self
            .run("PING", redis::cmd("PING").query_async::<String>(&mut conn))
            .await
        {
            Ok(_) => "ok".to_owned(),
            Err(e) => format!("error: {e}"),
        };
        BTreeMap::from([
            ("backend".to_owned(), "redis".to_owned()),
            ("status".to_owned(), status),
            ("url".to_owned(), self.url.clone()),
        ])
    }
}
