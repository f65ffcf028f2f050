//! A private `redis-server` on a free port (pulse's shared test support), that a test may
//! kill and restart without touching any shared server, with stream counts read off it.

/// A `redis-server` child process owned by one test.
pub(crate) struct RedisServer(pulse::testing::RedisServer);

impl RedisServer {
    /// Starts a server on a free port with its data in a fresh directory, or `None` (after
    /// a skip, `pulse::testing::skip`: a failure under CI) when `redis-server` is not installed.
    pub(crate) fn start() -> Option<Self> {
        pulse::testing::RedisServer::try_start().map(Self)
    }

    /// The URL of this server.
    pub(crate) fn url(&self) -> String {
        self.0.url()
    }

    /// Entries of stream `key` delivered to `group` and not yet acknowledged (0 when the
    /// stream or group does not exist yet).
    pub(crate) fn pending(&self, key: &str, group: &str) -> u64 {
        use redis::Commands;
        let Ok(mut con) = redis::Client::open(self.url()).and_then(|c| c.get_connection()) else {
            return 0;
        };
        con.xpending::<_, _, redis::streams::StreamPendingReply>(key, group)
            .map(|reply| reply.count() as u64)
            .unwrap_or(0)
    }

    /// Entries of stream `key` pending with `consumer` of `group`.
    pub(crate) fn pending_of(&self, key: &str, group: &str, consumer: &str) -> u64 {
        let Ok(mut con) = redis::Client::open(self.url()).and_then(|c| c.get_connection()) else {
            return 0;
        };
        redis::cmd("XPENDING")
            .arg(key)
            .arg(group)
            .arg("-")
            .arg("+")
            .arg(1_000_000)
            .arg(consumer)
            .query::<Vec<redis::Value>>(&mut con)
            .map(|rows| rows.len() as u64)
            .unwrap_or(0)
    }

    /// Entries in stream `key`.
    pub(crate) fn len(&self, key: &str) -> u64 {
        use redis::Commands;
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .and_then(|mut con| con.xlen(key))
            .unwrap_or(0)
    }

    /// The backlog of `group` on stream `key`: entries not yet delivered (`lag`) plus
    /// entries pending; 0 when the stream or group does not exist yet.
    pub(crate) fn backlog(&self, key: &str, group: &str) -> u64 {
        let Ok(mut con) = redis::Client::open(self.url()).and_then(|c| c.get_connection()) else {
            return 0;
        };
        let Ok(groups) = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(key)
            .query::<Vec<Vec<redis::Value>>>(&mut con)
        else {
            return 0;
        };
        for fields in groups {
            let pairs: Vec<(String, redis::Value)> = fields
                .chunks(2)
                .filter_map(|kv| {
                    Some((
                        redis::from_redis_value(kv[0].clone()).ok()?,
                        kv.get(1)?.clone(),
                    ))
                })
                .collect();
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
            };
            let named = get("name").and_then(|v| redis::from_redis_value::<String>(v).ok());
            if named.as_deref() != Some(group) {
                continue;
            }
            let count = |name: &str| {
                get(name)
                    .and_then(|v| redis::from_redis_value::<u64>(v).ok())
                    .unwrap_or(0)
            };
            return count("lag") + count("pending");
        }
        0
    }

    /// Kills the server with SIGKILL and waits for it to exit.
    pub(crate) fn kill(&mut self) {
        self.0.kill();
    }

    /// Starts the server again on the same port and data directory.
    pub(crate) fn restart(&mut self) {
        self.0.restart();
    }
}
