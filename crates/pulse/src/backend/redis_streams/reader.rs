//! The Redis reader of one consumer: `XREADGROUP` (pending, then new entries), `XREAD`
//! after a cursor for broadcast readers, and `XAUTOCLAIM` continuing from its cursor, all on
//! a connection of its own so that blocking reads delay no publish or ack.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use redis::Value;
use redis::aio::ConnectionManager;

use super::connection::{COMMAND_TIMEOUT, bounded, within};
use super::reply::{as_string, parse_entries, parse_read_reply};
use crate::BusError;
use crate::backend::{RawEntry, StreamReader};

/// A reader with its own connection, so its blocking `XREADGROUP` delays nothing else, and
/// its `XAUTOCLAIM` cursor per stream and group.
pub(super) struct RedisReader {
    conn: ConnectionManager,
    url: String,
    claim_cursors: HashMap<(String, String), String>,
}

impl RedisReader {
    /// A reader on `conn` (its own), to the server of `url` (redacted, for errors).
    pub(super) fn new(conn: ConnectionManager, url: String) -> Self {
        Self {
            conn,
            url,
            claim_cursors: HashMap::new(),
        }
    }

    /// Runs a read that blocks up to `block`, failing once it is overdue by
    /// [`COMMAND_TIMEOUT`].
    async fn blocking_read(
        &mut self,
        what: &str,
        cmd: redis::Cmd,
        block: Duration,
    ) -> Result<Vec<RawEntry>, BusError> {
        let reply: Value = within(
            block + COMMAND_TIMEOUT,
            &self.url,
            what,
            cmd.query_async(&mut self.conn),
        )
        .await?;
        Ok(parse_read_reply(&reply))
    }
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
        self.blocking_read("XREADGROUP", cmd, block).await
    }

    async fn read_after(
        &mut self,
        key: &str,
        after: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<RawEntry>, BusError> {
        let mut cmd = redis::cmd("XREAD");
        cmd.arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(block.as_millis().max(1) as u64)
            .arg("STREAMS")
            .arg(key)
            .arg(after);
        self.blocking_read("XREAD", cmd, block).await
    }

    async fn claim_idle(
        &mut self,
        key: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<RawEntry>, BusError> {
        let cursor_key = (key.to_owned(), group.to_owned());
        let cursor = self
            .claim_cursors
            .get(&cursor_key)
            .map_or("0-0", String::as_str);
        let mut cmd = redis::cmd("XAUTOCLAIM");
        cmd.arg(key)
            .arg(group)
            .arg(consumer)
            .arg(min_idle.as_millis() as u64)
            .arg(cursor)
            .arg("COUNT")
            .arg(count);
        let reply: Value =
            bounded(&self.url, "XAUTOCLAIM", cmd.query_async(&mut self.conn)).await?;
        let Value::Array(parts) = reply else {
            return Ok(Vec::new());
        };
        let next = parts
            .first()
            .and_then(as_string)
            .unwrap_or_else(|| "0-0".to_owned());
        self.claim_cursors.insert(cursor_key, next);
        let mut entries = parts.get(1).map(parse_entries).unwrap_or_default();
        if let Some(Value::Array(deleted)) = parts.get(2) {
            entries.extend(deleted.iter().filter_map(as_string).map(|id| RawEntry {
                id,
                fields: Vec::new(),
            }));
        }
        Ok(entries)
    }
}
