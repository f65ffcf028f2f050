//! Reading typed values out of environment variables, with errors that name the variable and
//! what it accepts; and [`ENV_VARS`], the catalogue of every variable the store reads.

use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use super::url::DatabaseUrl;
use super::{ConfigError, SqliteSynchronous};

/// Every variable the store reads: name, default, meaning (for docs and `--help`).
pub const ENV_VARS: &[(&str, &str, &str)] = &[
    (
        "MDS_COORDINATOR_CAPACITY",
        "10000",
        "write queue capacity in items",
    ),
    (
        "MDS_COORDINATOR_WORKERS",
        "4",
        "worker tasks writing to the sink",
    ),
    (
        "MDS_COORDINATOR_BATCH_SIZE",
        "500",
        "items per sink write at most",
    ),
    (
        "MDS_COORDINATOR_FLUSH_INTERVAL",
        "0.25",
        "seconds before a partial batch is written",
    ),
    (
        "MDS_RETRY_INITIAL_BACKOFF_MS",
        "50",
        "milliseconds before the first retry",
    ),
    (
        "MDS_RETRY_BACKOFF_MULTIPLIER",
        "2.0",
        "factor applied to the delay after each retry (>= 1)",
    ),
    (
        "MDS_RETRY_MAX_BACKOFF_MS",
        "2000",
        "upper bound of the retry delay in milliseconds",
    ),
    (
        "MDS_RETRY_GIVE_UP_AFTER_SEC",
        "(none)",
        "seconds a batch may fail transiently before it is dead-lettered; unset retries until the sink recovers",
    ),
    (
        "MDS_CB_FAILURE_THRESHOLD",
        "5",
        "consecutive failed batches that open the circuit breaker",
    ),
    (
        "MDS_CB_HALF_OPEN_AFTER_SEC",
        "60",
        "seconds open before one probe write is let through",
    ),
    (
        "MDS_FB_ENABLE_HTTP_BROADCAST",
        "false",
        "POST every feedback event to a webhook",
    ),
    (
        "MDS_FB_HTTP_ENDPOINT",
        "(none)",
        "webhook URL, required when the broadcast is on",
    ),
    (
        "MDS_FB_FEEDBACK_WEBHOOK_URL",
        "(none)",
        "alias of MDS_FB_HTTP_ENDPOINT",
    ),
    (
        "MDS_FB_HTTP_TIMEOUT",
        "2.5",
        "seconds allowed for one webhook POST",
    ),
    (
        "MDS_FB_HTTP_MAX_RETRIES",
        "3",
        "webhook retries on 5xx and network errors",
    ),
    (
        "MDS_FB_HTTP_BACKOFF",
        "0.5",
        "seconds before the first webhook retry, doubled after each",
    ),
    (
        "MDS_FB_HEARTBEAT_SEC",
        "5",
        "seconds between re-publications of the current level",
    ),
    (
        "MDS_FB_REPORT_MS",
        "250",
        "milliseconds between utilization reports (only of queues that moved by 1 %); 0 sends none",
    ),
    (
        "DATABASE_URL",
        "sqlite://mdp.db",
        "sink: sqlite://PATH, postgres://..., or memory://",
    ),
    (
        "MDS_PG_SCHEMA",
        "public",
        "PostgreSQL schema of the bars table, created on first use",
    ),
    (
        "MDS_PG_COPY_THRESHOLD",
        "1000",
        "batches this large or larger use COPY via a staging table",
    ),
    (
        "MDS_PG_POOL_SIZE",
        "4",
        "PostgreSQL connections in the pool at most",
    ),
    (
        "MDS_PG_POOL_TIMEOUT_SEC",
        "30",
        "seconds a write waits for a free PostgreSQL connection, or for a new one, before it fails transiently",
    ),
    (
        "MDS_PG_CA_FILE",
        "(none)",
        "PEM file of the CAs that sslmode=verify-ca/verify-full trust; the URL's sslrootcert= wins; unset: the system's roots",
    ),
    (
        "MDS_SQLITE_SYNCHRONOUS",
        "full",
        "SQLite commit sync: full (every commit survives a power loss) or normal (faster)",
    ),
    (
        "ADMIN_TOKEN",
        "(none)",
        "bearer token of the admin HTTP routes; unset turns them off",
    ),
];

/// Variables no longer read, each with what to use instead (start-up warns when one is set).
pub const RETIRED_VARS: &[(&str, &str)] = &[(
    "MDS_RETRY_MAX_ATTEMPTS",
    "transient failures are retried until the sink recovers; set MDS_RETRY_GIVE_UP_AFTER_SEC \
     to dead-letter a batch that keeps failing for that long",
)];

/// Typed access to variables through a lookup function.
pub(super) struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub(super) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The trimmed value, `None` when unset or empty.
    pub(super) fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parse<T>(
        &self,
        name: &'static str,
        default: T,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => parse(&raw).ok_or_else(|| invalid(name, &raw, expected)),
        }
    }

    pub(super) fn non_zero(
        &self,
        name: &'static str,
        default: NonZeroUsize,
    ) -> Result<NonZeroUsize, ConfigError> {
        self.parse(name, default, "a positive integer", |v| v.parse().ok())
    }

    pub(super) fn non_zero_u32(
        &self,
        name: &'static str,
        default: NonZeroU32,
    ) -> Result<NonZeroU32, ConfigError> {
        self.parse(name, default, "a positive integer", |v| v.parse().ok())
    }

    pub(super) fn u32(&self, name: &'static str, default: u32) -> Result<u32, ConfigError> {
        self.parse(name, default, "a non-negative integer", |v| v.parse().ok())
    }

    pub(super) fn millis(
        &self,
        name: &'static str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        self.parse(
            name,
            default,
            "a non-negative integer of milliseconds",
            |v| v.parse().ok().map(Duration::from_millis),
        )
    }

    pub(super) fn seconds(
        &self,
        name: &'static str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        self.parse(
            name,
            default,
            "a positive number of seconds, e.g. 0.25",
            |v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
            },
        )
    }

    /// Like [`Env::seconds`], `None` when unset.
    pub(super) fn optional_seconds(
        &self,
        name: &'static str,
    ) -> Result<Option<Duration>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(_) => self.seconds(name, Duration::ZERO).map(Some),
        }
    }

    pub(super) fn sqlite_synchronous(
        &self,
        name: &'static str,
    ) -> Result<SqliteSynchronous, ConfigError> {
        self.parse(
            name,
            SqliteSynchronous::default(),
            "full or normal",
            |v| match v.to_ascii_lowercase().as_str() {
                "full" => Some(SqliteSynchronous::Full),
                "normal" => Some(SqliteSynchronous::Normal),
                _ => None,
            },
        )
    }

    pub(super) fn multiplier(&self, name: &'static str, default: f64) -> Result<f64, ConfigError> {
        self.parse(name, default, "a number >= 1", |v| {
            v.parse::<f64>().ok().filter(|m| m.is_finite() && *m >= 1.0)
        })
    }

    pub(super) fn boolean(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        self.parse(
            name,
            default,
            "one of true, false, 1, 0, yes, no, on, off",
            |v| match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => None,
            },
        )
    }

    pub(super) fn identifier(
        &self,
        name: &'static str,
        default: &str,
    ) -> Result<String, ConfigError> {
        self.parse(
            name,
            default.to_owned(),
            "a SQL identifier: a letter or _ then letters, digits or _ (at most 63)",
            |v| super::valid_identifier(v).then(|| v.to_owned()),
        )
    }

    pub(super) fn http_url(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        match self.get(name) {
            None => Ok(None),
            Some(raw) if is_http_url(&raw) => Ok(Some(raw)),
            Some(raw) => Err(invalid(
                name,
                &super::redact_url(&raw),
                "an http:// or https:// URL",
            )),
        }
    }

    pub(super) fn database_url(&self, name: &'static str) -> Result<DatabaseUrl, ConfigError> {
        match self.get(name) {
            None => Ok(DatabaseUrl::default()),
            Some(raw) => DatabaseUrl::parse(&raw)
                .map_err(|expected| invalid(name, &super::redact_url(&raw), &expected)),
        }
    }
}

fn is_http_url(raw: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        raw.len() > scheme.len()
            && raw
                .get(..scheme.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    })
}

fn invalid(variable: &'static str, value: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid {
        variable,
        value: value.to_owned(),
        expected: expected.to_owned(),
    }
}
