//! The Redis Streams backend: `XADD ... MAXLEN ~`, consumer groups created from `0` with
//! `MKSTREAM`, `XREADGROUP` on a connection of the reader's own, `XAUTOCLAIM` of idle
//! entries, `XCLAIM ... JUSTID` to keep entries in hand, and a dead-letter stream written
//! atomically with the `XACK` of the original.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Value};

use super::{DeadLetter, EventBus, FailOutcome, FailPolicy, RawEntry, StreamReader};
use crate::config::redact_url;
use crate::{BusError, PulseConfig};

/// Longest a non-blocking command may take before the caller gets an error.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

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

fn manager_config(response_timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(1000))
        .set_number_of_retries(3)
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(response_timeout))
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
}

/// A client for `config.redis_url`; `rediss://` verifies the server against
/// `REDIS_TLS_CA_FILE` when set, and against the system's roots otherwise.
fn open_client(config: &PulseConfig) -> Result<Client, String> {
    match &config.redis_tls_ca_file {
        Some(path) if config.redis_url.starts_with("rediss://") => {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read REDIS_TLS_CA_FILE {}: {e}", path.display()))?;
            let certs = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem),
            };
            Client::build_with_tls(config.redis_url.as_str(), certs).map_err(|e| e.to_string())
        }
        _ => Client::open(config.redis_url.as_str()).map_err(|e| e.to_string()),
    }
}

async fn bounded<T, F>(url: &str, what: &str, fut: F) -> Result<T, BusError>
where
    F: Future<Output = redis::RedisResult<T>>,
{
    match tokio::time::timeout(COMMAND_TIMEOUT, fut).await {
        Ok(result) => result.map_err(BusError::from),
        Err(_) => Err(BusError::Unavailable(format!(
            "{what} on {url} timed out after {COMMAND_TIMEOUT:?}"
        ))),
    }
}

fn xadd(key: &str, maxlen: usize, fields: &[(&str, &str)]) -> redis::Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(key).arg("MAXLEN").arg("~").arg(maxlen).arg("*");
    for (name, value) in fields {
        cmd.arg(*name).arg(*value);
    }
    cmd
}

fn dlq_add(key: &str, original_id: &str, reason: &str, deliveries: u32, data: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(format!("{key}.dlq"))
        .arg("*")
        .arg("original_id")
        .arg(original_id)
        .arg("reason")
        .arg(reason)
        .arg("deliveries")
        .arg(deliveries)
        .arg("data")
        .arg(data);
    cmd
}

#[async_trait]
impl EventBus for RedisStreamsBus {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn publish(&self, key: &str, data: &str, maxlen: usize) -> Result<String, BusError> {
        let mut conn = self.conn.clone();
        let cmd = xadd(key, maxlen, &[("data", data)]);
        self.run("XADD", cmd.query_async(&mut conn)).await
    }

    async fn publish_batch(
        &self,
        key: &str,
        data: &[String],
        maxlen: usize,
    ) -> Result<Vec<String>, BusError> {
        if data.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for d in data {
            pipe.add_command(xadd(key, maxlen, &[("data", d)]));
        }
        let mut conn = self.conn.clone();
        self.run("XADD batch", pipe.query_async(&mut conn)).await
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
        Ok(Box::new(RedisReader {
            conn,
            url: self.url.clone(),
        }))
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
    ) -> Result<(), BusError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("XCLAIM");
        cmd.arg(key)
            .arg(group)
            .arg(consumer)
            .arg(0)
            .arg(ids)
            .arg("JUSTID");
        self.run("XCLAIM JUSTID", cmd.query_async::<Value>(&mut conn))
            .await
            .map(drop)
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
        let data = parse_entries(&entries)
            .into_iter()
            .next()
            .and_then(|e| e.data)
            .unwrap_or_default();
        let mut pipe = redis::pipe();
        pipe.atomic()
            .add_command(dlq_add(key, id, reason, deliveries, &data))
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
            .add_command(dlq_add(
                key,
                &entry.id,
                reason,
                deliveries,
                entry.data.as_deref().unwrap_or_default(),
            ))
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
        Ok(entry_fields(&reply)
            .into_iter()
            .map(|(id, fields)| {
                let get = |name: &str| {
                    fields
                        .iter()
                        .find(|(f, _)| f == name)
                        .map(|(_, v)| v.clone())
                };
                DeadLetter {
                    id,
                    original_id: get("original_id").unwrap_or_default(),
                    reason: get("reason").unwrap_or_default(),
                    deliveries: get("deliveries").and_then(|d| d.parse().ok()).unwrap_or(0),
                    data: get("data").unwrap_or_default(),
                }
            })
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

/// A reader with its own connection, so its blocking `XREADGROUP` delays nothing else.
struct RedisReader {
    conn: ConnectionManager,
    url: String,
}

#[async_trait]
impl StreamReader for RedisReader {
    async fn read_pending(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        after: &str,
        count: usize,
    ) -> Result<Vec<RawEntry>, BusError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("STREAMS")
            .arg(key)
            .arg(after);
        let reply: Value =
            bounded(&self.url, "XREADGROUP", cmd.query_async(&mut self.conn)).await?;
        Ok(parse_read_reply(&reply))
    }

    async fn read_new(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<RawEntry>, BusError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(key)
            .arg(">");
        let timeout = block + COMMAND_TIMEOUT;
        match tokio::time::timeout(timeout, cmd.query_async::<Value>(&mut self.conn)).await {
            Ok(reply) => Ok(parse_read_reply(&reply?)),
            Err(_) => Err(BusError::Unavailable(format!(
                "XREADGROUP on {} timed out after {timeout:?}",
                self.url
            ))),
        }
    }

    async fn claim_idle(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<RawEntry>, BusError> {
        let mut cmd = redis::cmd("XAUTOCLAIM");
        cmd.arg(key)
            .arg(group)
            .arg(consumer)
            .arg(min_idle.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(count);
        let reply: Value =
            bounded(&self.url, "XAUTOCLAIM", cmd.query_async(&mut self.conn)).await?;
        let Value::Array(parts) = reply else {
            return Ok(Vec::new());
        };
        let mut entries = parts.get(1).map(parse_entries).unwrap_or_default();
        if let Some(Value::Array(deleted)) = parts.get(2) {
            entries.extend(
                deleted
                    .iter()
                    .filter_map(as_string)
                    .map(|id| RawEntry { id, data: None }),
            );
        }
        Ok(entries)
    }
}

fn as_string(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn as_int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        other => as_string(other)?.parse().ok(),
    }
}

/// `XPENDING key group id id 1` -> the delivery count of that id, if pending.
fn pending_count(reply: &Value) -> Option<u32> {
    let Value::Array(rows) = reply else {
        return None;
    };
    let Value::Array(row) = rows.first()? else {
        return None;
    };
    as_int(row.get(3)?).and_then(|n| u32::try_from(n).ok())
}

/// `[[id, [field, value, ...] | nil], ...]` -> `(id, fields)` pairs.
fn entry_fields(value: &Value) -> Vec<(String, Vec<(String, String)>)> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else {
                return None;
            };
            let id = as_string(pair.first()?)?;
            let fields = match pair.get(1) {
                Some(Value::Array(kv)) => kv
                    .chunks(2)
                    .filter_map(|c| Some((as_string(c.first()?)?, as_string(c.get(1)?)?)))
                    .collect(),
                Some(Value::Map(kv)) => kv
                    .iter()
                    .filter_map(|(k, v)| Some((as_string(k)?, as_string(v)?)))
                    .collect(),
                _ => Vec::new(),
            };
            Some((id, fields))
        })
        .collect()
}

fn parse_entries(value: &Value) -> Vec<RawEntry> {
    entry_fields(value)
        .into_iter()
        .map(|(id, fields)| RawEntry {
            id,
            data: fields
                .into_iter()
                .find(|(f, _)| f == "data")
                .map(|(_, v)| v),
        })
        .collect()
}

/// `XREADGROUP` reply: `[[key, entries]]` (or a map), or nil on timeout.
fn parse_read_reply(reply: &Value) -> Vec<RawEntry> {
    match reply {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|s| match s {
                Value::Array(pair) => pair.get(1).map(parse_entries),
                _ => None,
            })
            .flatten()
            .collect(),
        Value::Map(streams) => streams
            .iter()
            .flat_map(|(_, entries)| parse_entries(entries))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn parses_a_read_reply_with_a_trimmed_entry() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("k"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk("1-0"),
                    Value::Array(vec![bulk("data"), bulk("{}")]),
                ]),
                Value::Array(vec![bulk("2-0"), Value::Nil]),
            ]),
        ])]);
        assert_eq!(
            parse_read_reply(&reply),
            vec![
                RawEntry {
                    id: "1-0".into(),
                    data: Some("{}".into())
                },
                RawEntry {
                    id: "2-0".into(),
                    data: None
                },
            ]
        );
        assert!(parse_read_reply(&Value::Nil).is_empty());
    }

    #[test]
    fn parses_the_delivery_count_of_a_pending_entry() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("1-0"),
            bulk("c1"),
            Value::Int(10),
            Value::Int(3),
        ])]);
        assert_eq!(pending_count(&reply), Some(3));
        assert_eq!(pending_count(&Value::Array(vec![])), None);
    }
}
