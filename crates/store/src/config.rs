//! Store settings (SPEC §4.5): plain structs with their defaults, read from environment
//! variables through an injected lookup and validated before anything starts.
//!
//! ```
//! use store::config::StoreSettings;
//! let env = [("MDS_COORDINATOR_WORKERS", "8")];
//! let settings = StoreSettings::from_lookup(|name| {
//!     env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
//! })?;
//! assert_eq!(settings.coordinator.workers.get(), 8);
//! assert_eq!(settings.coordinator.capacity.get(), 10_000);
//!
//! let bad = StoreSettings::from_lookup(|name| {
//!     (name == "MDS_COORDINATOR_WORKERS").then(|| "many".to_owned())
//! });
//! assert!(bad.unwrap_err().to_string().contains("MDS_COORDINATOR_WORKERS"));
//! # Ok::<(), store::config::ConfigError>(())
//! ```

mod env;
#[cfg(feature = "postgres")]
mod postgres_url;
mod sql_identifier;
mod url;

use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::time::Duration;

pub use env::{ENV_VARS, RETIRED_VARS};
#[cfg(feature = "postgres")]
pub use postgres_url::{PostgresUrl, SslMode};
pub use sql_identifier::valid_identifier;
pub use url::{DatabaseUrl, redact_url};

use core_contracts::env::{Env, EnvError};

/// Why the settings could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A variable holds a value outside what it accepts.
    #[error("invalid {variable}={value}: expected {expected}")]
    Invalid {
        /// The variable's name.
        variable: &'static str,
        /// The value found (secrets redacted).
        value: String,
        /// What the variable accepts.
        expected: String,
    },
    /// A variable that another setting requires is not set.
    #[error("missing {variable}: {reason}")]
    Missing {
        /// The variable's name.
        variable: &'static str,
        /// Why it is needed.
        reason: String,
    },
}

impl From<EnvError> for ConfigError {
    fn from(e: EnvError) -> Self {
        Self::Invalid {
            variable: e.var,
            value: e.value,
            expected: e.expected,
        }
    }
}

/// Every setting of the store service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreSettings {
    /// Write coordinator sizing and batching.
    pub coordinator: CoordinatorSettings,
    /// Retries of a failed batch write.
    pub retry: RetrySettings,
    /// The circuit breaker in front of the sink.
    pub breaker: BreakerSettings,
    /// Feedback broadcasting: webhook and heartbeat.
    pub feedback: FeedbackSettings,
    /// Where bars are written.
    pub sink: SinkSettings,
    /// Bearer token of the admin HTTP routes; `None` turns them off.
    pub admin_token: Option<AdminToken>,
}

/// Write coordinator sizing and batching (`MDS_COORDINATOR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoordinatorSettings {
    /// Queue capacity in items (`MDS_COORDINATOR_CAPACITY`, 10000).
    pub capacity: NonZeroUsize,
    /// Worker tasks writing to the sink (`MDS_COORDINATOR_WORKERS`, 4).
    pub workers: NonZeroUsize,
    /// Items per sink write at most (`MDS_COORDINATOR_BATCH_SIZE`, 500).
    pub batch_size: NonZeroUsize,
    /// Longest wait before a partial batch is written (`MDS_COORDINATOR_FLUSH_INTERVAL`, 0.25 s).
    pub flush_interval: Duration,
}

/// Retries of a failed batch write (`MDS_RETRY_*`). A transient failure is retried until
/// the sink recovers; only the optional give-up deadline dead-letters it.
#[derive(Debug, Clone, PartialEq)]
pub struct RetrySettings {
    /// Delay before the first retry (`MDS_RETRY_INITIAL_BACKOFF_MS`, 50 ms).
    pub initial_backoff: Duration,
    /// Factor applied to the delay after each retry (`MDS_RETRY_BACKOFF_MULTIPLIER`, 2.0).
    pub multiplier: f64,
    /// Upper bound of the delay (`MDS_RETRY_MAX_BACKOFF_MS`, 2000 ms).
    pub max_backoff: Duration,
    /// A batch failing transiently for longer than this is dead-lettered
    /// (`MDS_RETRY_GIVE_UP_AFTER_SEC`, unset: never).
    pub give_up_after: Option<Duration>,
}

/// The circuit breaker in front of the sink (`MDS_CB_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failed batches that open the breaker (`MDS_CB_FAILURE_THRESHOLD`, 5).
    pub failure_threshold: NonZeroU32,
    /// Time open before one probe is let through (`MDS_CB_HALF_OPEN_AFTER_SEC`, 60 s).
    pub half_open_after: Duration,
}

/// Feedback broadcasting (`MDS_FB_*`).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackSettings {
    /// The webhook, when `MDS_FB_ENABLE_HTTP_BROADCAST` is true.
    pub webhook: Option<WebhookSettings>,
    /// Period of the level heartbeat on the bus (`MDS_FB_HEARTBEAT_SEC`, 5 s).
    pub heartbeat: Duration,
    /// Period of the utilization report between heartbeats (`MDS_FB_REPORT_MS`, 250 ms);
    /// `None` (`0`) sends none.
    pub report: Option<Duration>,
}

/// The feedback webhook of SPEC §4.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// URL events are POSTed to (`MDS_FB_HTTP_ENDPOINT`; `MDS_FB_FEEDBACK_WEBHOOK_URL` is
    /// accepted as an alias).
    pub endpoint: String,
    /// Timeout of one POST (`MDS_FB_HTTP_TIMEOUT`, 2.5 s).
    pub timeout: Duration,
    /// Retries after the first attempt, on 5xx and network errors (`MDS_FB_HTTP_MAX_RETRIES`, 3).
    pub max_retries: u32,
    /// Delay before the first retry, doubled after each (`MDS_FB_HTTP_BACKOFF`, 0.5 s).
    pub backoff: Duration,
}

/// Where bars are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkSettings {
    /// The sink URL (`DATABASE_URL`, `sqlite://mdp.db`).
    pub database_url: DatabaseUrl,
    /// PostgreSQL options, used when the URL is `postgres://`.
    pub postgres: PostgresOptions,
    /// How SQLite syncs its commits, used when the URL is `sqlite://`
    /// (`MDS_SQLITE_SYNCHRONOUS`, `full`).
    pub sqlite_synchronous: SqliteSynchronous,
}

/// SQLite's `synchronous` pragma for the sink (`MDS_SQLITE_SYNCHRONOUS`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// Every commit is synced to disk before it returns: a written bar survives a power loss
    /// (the default).
    #[default]
    Full,
    /// WAL commits are synced at checkpoints only: faster, but a power loss may undo the
    /// last commits.
    Normal,
}

impl SqliteSynchronous {
    /// The pragma value, `FULL` or `NORMAL`.
    pub fn as_pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// Options of the PostgreSQL sink (`MDS_PG_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Schema holding the table, created on first use (`MDS_PG_SCHEMA`, `public`).
    pub schema: String,
    /// Table name (`bars`).
    pub table: String,
    /// Batches of at least this many bars are written with COPY through a staging table,
    /// smaller ones with a multi-row INSERT (`MDS_PG_COPY_THRESHOLD`, 1000).
    pub copy_threshold: NonZeroUsize,
    /// Connections in the pool at most; each carries one write at a time, and a write takes
    /// whichever is free (`MDS_PG_POOL_SIZE`, 4).
    pub pool_size: NonZeroUsize,
    /// Longest wait for a free connection of the pool, and for a new connection to be made;
    /// past it the write fails transiently (`MDS_PG_POOL_TIMEOUT_SEC`, 30 s).
    pub pool_timeout: Duration,
    /// PEM file of the CA certificates that `sslmode=verify-ca` and `verify-full` trust
    /// (`MDS_PG_CA_FILE`; the URL's `sslrootcert=` wins); `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
}

/// The admin bearer token; its `Debug` form never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    /// A token; `None` when `token` is empty.
    pub fn new(token: impl Into<String>) -> Option<Self> {
        let token = token.into();
        (!token.is_empty()).then_some(Self(token))
    }

    /// The secret, for comparison.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(***)")
    }
}

const fn nz(n: usize) -> NonZeroUsize {
    match NonZeroUsize::new(n) {
        Some(n) => n,
        None => panic!("default must be non-zero"),
    }
}

const fn nz32(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => panic!("default must be non-zero"),
    }
}

impl Default for CoordinatorSettings {
    fn default() -> Self {
        Self {
            capacity: nz(10_000),
            workers: nz(4),
            batch_size: nz(500),
            flush_interval: Duration::from_millis(250),
        }
    }
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            initial_backoff: Duration::from_millis(50),
            multiplier: 2.0,
            max_backoff: Duration::from_millis(2000),
            give_up_after: None,
        }
    }
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            failure_threshold: nz32(5),
            half_open_after: Duration::from_secs(60),
        }
    }
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        Self {
            webhook: None,
            heartbeat: Duration::from_secs(5),
            report: Some(Duration::from_millis(250)),
        }
    }
}

impl WebhookSettings {
    /// Settings for `endpoint` with the default timeout, retries and backoff.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            timeout: Duration::from_millis(2500),
            max_retries: 3,
            backoff: Duration::from_millis(500),
        }
    }
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            schema: "public".to_owned(),
            table: "bars".to_owned(),
            copy_threshold: nz(1000),
            pool_size: nz(4),
            pool_timeout: Duration::from_secs(30),
            ca_file: None,
        }
    }
}

impl StoreSettings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (a variable's value, or `None` when unset); an
    /// unset or empty variable takes its default.
    pub fn from_lookup<F>(lookup: F) -> Result<Self, ConfigError>
    where
        F: Fn(&str) -> Option<String>,
    {
        let env = Env::new(&lookup);
        for (retired, instead) in retired_in_use(&lookup) {
            tracing::warn!(variable = retired, "{retired} is no longer read: {instead}");
        }
        let d = Self::default();
        let retry = RetrySettings {
            initial_backoff: env.millis("MDS_RETRY_INITIAL_BACKOFF_MS", d.retry.initial_backoff)?,
            multiplier: env.at_least_one("MDS_RETRY_BACKOFF_MULTIPLIER", d.retry.multiplier)?,
            max_backoff: env.millis("MDS_RETRY_MAX_BACKOFF_MS", d.retry.max_backoff)?,
            give_up_after: env.optional_secs("MDS_RETRY_GIVE_UP_AFTER_SEC")?,
        };
        if retry.max_backoff < retry.initial_backoff {
            return Err(ConfigError::Invalid {
                variable: "MDS_RETRY_MAX_BACKOFF_MS",
                value: retry.max_backoff.as_millis().to_string(),
                expected: format!(
                    "at least MDS_RETRY_INITIAL_BACKOFF_MS ({})",
                    retry.initial_backoff.as_millis()
                ),
            });
        }
        Ok(Self {
            coordinator: CoordinatorSettings {
                capacity: env.non_zero("MDS_COORDINATOR_CAPACITY", d.coordinator.capacity)?,
                workers: env.non_zero("MDS_COORDINATOR_WORKERS", d.coordinator.workers)?,
                batch_size: env.non_zero("MDS_COORDINATOR_BATCH_SIZE", d.coordinator.batch_size)?,
                flush_interval: env.secs(
                    "MDS_COORDINATOR_FLUSH_INTERVAL",
                    d.coordinator.flush_interval,
                )?,
            },
            retry,
            breaker: BreakerSettings {
                failure_threshold: env
                    .non_zero("MDS_CB_FAILURE_THRESHOLD", d.breaker.failure_threshold)?,
                half_open_after: env
                    .secs("MDS_CB_HALF_OPEN_AFTER_SEC", d.breaker.half_open_after)?,
            },
            feedback: FeedbackSettings {
                webhook: webhook(&env)?,
                heartbeat: env.secs("MDS_FB_HEARTBEAT_SEC", d.feedback.heartbeat)?,
                report: Some(
                    env.millis("MDS_FB_REPORT_MS", d.feedback.report.unwrap_or_default())?,
                )
                .filter(|every| !every.is_zero()),
            },
            sink: SinkSettings {
                database_url: env::database_url(&env, "DATABASE_URL")?,
                postgres: PostgresOptions {
                    schema: env::identifier(&env, "MDS_PG_SCHEMA", &d.sink.postgres.schema)?,
                    table: d.sink.postgres.table,
                    copy_threshold: env
                        .non_zero("MDS_PG_COPY_THRESHOLD", d.sink.postgres.copy_threshold)?,
                    pool_size: env.non_zero("MDS_PG_POOL_SIZE", d.sink.postgres.pool_size)?,
                    pool_timeout: env
                        .secs("MDS_PG_POOL_TIMEOUT_SEC", d.sink.postgres.pool_timeout)?,
                    ca_file: env.raw("MDS_PG_CA_FILE").map(PathBuf::from),
                },
                sqlite_synchronous: env::sqlite_synchronous(&env, "MDS_SQLITE_SYNCHRONOUS")?,
            },
            admin_token: env.raw("ADMIN_TOKEN").and_then(AdminToken::new),
        })
    }
}

/// The retired variables set in the environment, each with what replaces it; start-up logs
/// one warning for each.
///
/// ```
/// let set = |name: &str| (name == "MDS_RETRY_MAX_ATTEMPTS").then(|| "5".to_owned());
/// let retired = store::config::retired_in_use(&set);
/// assert_eq!(retired.len(), 1);
/// assert!(retired[0].1.contains("MDS_RETRY_GIVE_UP_AFTER_SEC"));
/// assert!(store::config::retired_in_use(&|_: &str| None).is_empty());
/// ```
pub fn retired_in_use(
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<(&'static str, &'static str)> {
    let env = Env::new(lookup);
    RETIRED_VARS
        .iter()
        .copied()
        .filter(|(name, _)| env.raw(name).is_some())
        .collect()
}

fn webhook(env: &Env<'_>) -> Result<Option<WebhookSettings>, ConfigError> {
    let enabled = env.bool("MDS_FB_ENABLE_HTTP_BROADCAST", false)?;
    let d = WebhookSettings::new("");
    let timeout = env.secs("MDS_FB_HTTP_TIMEOUT", d.timeout)?;
    let max_retries = env.whole("MDS_FB_HTTP_MAX_RETRIES", d.max_retries)?;
    let backoff = env.secs("MDS_FB_HTTP_BACKOFF", d.backoff)?;
    let endpoint = match env::http_url(env, "MDS_FB_HTTP_ENDPOINT")? {
        Some(url) => Some(url),
        None => env::http_url(env, "MDS_FB_FEEDBACK_WEBHOOK_URL")?,
    };
    if !enabled {
        return Ok(None);
    }
    let endpoint = endpoint.ok_or_else(|| ConfigError::Missing {
        variable: "MDS_FB_HTTP_ENDPOINT",
        reason: "required when MDS_FB_ENABLE_HTTP_BROADCAST is true".to_owned(),
    })?;
    Ok(Some(WebhookSettings {
        endpoint,
        timeout,
        max_retries,
        backoff,
    }))
}
