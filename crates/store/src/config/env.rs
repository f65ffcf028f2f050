//! Reading typed values out of environment variables, with errors that name the variable and
//! what it accepts; and [`ENV_VARS`], the catalogue of every variable the store reads.

use core_contracts::env::Env;

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

/// Store-specific readers on the shared [`Env`]; the generic ones (`count`, `secs`, `bool`,
/// ...) are [`Env`]'s own.
pub(super) fn sqlite_synchronous(
    env: &Env<'_>,
    name: &'static str,
) -> Result<SqliteSynchronous, ConfigError> {
    Ok(env.parse_with(
        name,
        SqliteSynchronous::default(),
        "full or normal",
        |v| match v.to_ascii_lowercase().as_str() {
            "full" => Some(SqliteSynchronous::Full),
            "normal" => Some(SqliteSynchronous::Normal),
            _ => None,
        },
    )?)
}

pub(super) fn identifier(
    env: &Env<'_>,
    name: &'static str,
    default: &str,
) -> Result<String, ConfigError> {
    Ok(env.parse_with(
        name,
        default.to_owned(),
        "a SQL identifier: a letter or _ then letters, digits or _ (at most 63)",
        |v| super::valid_identifier(v).then(|| v.to_owned()),
    )?)
}

pub(super) fn http_url(env: &Env<'_>, name: &'static str) -> Result<Option<String>, ConfigError> {
    match env.raw(name) {
        None => Ok(None),
        Some(raw) if is_http_url(&raw) => Ok(Some(raw)),
        Some(raw) => Err(invalid(
            name,
            &super::redact_url(&raw),
            "an http:// or https:// URL",
        )),
    }
}

pub(super) fn database_url(env: &Env<'_>, name: &'static str) -> Result<DatabaseUrl, ConfigError> {
    match env.raw(name) {
        None => {
            let default = DatabaseUrl::default();
            match default.missing_feature() {
                None => Ok(default),
                Some(feature) => Err(invalid(
                    name,
                    "",
                    &format!(
                        "a URL: unset, it is {default}, which needs the store built with its \
                         `{feature}` feature"
                    ),
                )),
            }
        }
        Some(raw) => DatabaseUrl::parse(&raw)
            .map_err(|expected| invalid(name, &super::redact_url(&raw), &expected)),
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
