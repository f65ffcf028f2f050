//! A PostgreSQL schema of its own for one test (`mdp_svc_<random>`), dropped afterwards.
//!
//! The server is `MDP_TEST_DATABASE_URL` (default `postgres://root@127.0.0.1:5432/test`).
//! When it cannot be reached the test skips (`pulse::testing::skip`: a marker line, a failure
//! under CI).

use std::str::FromStr;
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio_postgres::{Client, Config, NoTls};

/// The server used when `MDP_TEST_DATABASE_URL` is not set.
pub(crate) const DEFAULT_URL: &str = "postgres://root@127.0.0.1:5432/test";

/// A uniquely named schema on the test server, dropped (with its tables) on drop.
pub(crate) struct PgSchema {
    /// The schema name.
    pub name: String,
    /// The server URL.
    pub url: String,
    rt: Runtime,
    client: Client,
}

impl PgSchema {
    /// A fresh schema name on a reachable server, or `None` after a skip (a failure under CI).
    pub(crate) fn new() -> Option<Self> {
        let url = std::env::var("MDP_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.into());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let client = match rt.block_on(connect(&url)) {
            Ok(client) => client,
            Err(error) => {
                super::unavailable(&format!("PostgreSQL at {url} is unreachable ({error})"));
                return None;
            }
        };
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        Some(Self {
            name: format!("mdp_svc_{}", &suffix[..12]),
            url,
            rt,
            client,
        })
    }

    /// Rows in the schema's `bars` table (0 before it exists).
    pub(crate) fn rows(&self) -> u64 {
        self.count("COUNT(*)")
    }

    /// Distinct bar keys in the schema's `bars` table.
    pub(crate) fn distinct_keys(&self) -> u64 {
        self.count("COUNT(DISTINCT (provider, symbol, resolution, ts))")
    }

    /// Every bar in the schema's `bars` table (none before it exists).
    pub(crate) fn bars(&self) -> super::bars::Bars {
        let sql = format!(
            "SELECT provider, symbol, resolution, \
                    to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), \
                    open::text, high::text, low::text, close::text, volume::text, delayed \
             FROM \"{}\".\"bars\"",
            self.name
        );
        let Ok(rows) = self.rt.block_on(self.client.query(&sql, &[])) else {
            return super::bars::Bars::new();
        };
        super::bars::by_key(rows.iter().map(|row| {
            let text = |i: usize| row.get::<_, String>(i);
            super::bars::from_row(
                [
                    &text(0),
                    &text(1),
                    &text(2),
                    &text(3),
                    &text(4),
                    &text(5),
                    &text(6),
                    &text(7),
                    &text(8),
                ],
                row.get::<_, bool>(9),
            )
        }))
    }

    fn count(&self, what: &str) -> u64 {
        let sql = format!("SELECT {what} FROM \"{}\".\"bars\"", self.name);
        self.rt
            .block_on(self.client.query_one(&sql, &[]))
            .map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        if let Err(error) = self.rt.block_on(self.client.batch_execute(&sql)) {
            eprintln!("warning: could not drop test schema {}: {error}", self.name);
        }
    }
}

async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let mut config = Config::from_str(url)?;
    config.connect_timeout(Duration::from_secs(3));
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}
