//! Connections to Redis and the bound on every command: a client for `REDIS_URL` (with the
//! CA of `REDIS_TLS_CA_FILE` for `rediss://`), the reconnect settings of a connection, and
//! the timeout and error context (command and server address) of each command.

use std::future::Future;
use std::time::Duration;

use redis::Client;
use redis::aio::ConnectionManagerConfig;

use crate::config::redis_address;
use crate::{BusError, PulseConfig};

/// Longest a non-blocking command may take before the caller gets an error.
pub(super) const COMMAND_TIMEOUT: Duration = Duration::from_secs(3);

/// Reconnect with backoff (50 ms to 1 s, three tries), connect within 1 s, and wait up to
/// `response_timeout` for a reply.
pub(super) fn manager_config(response_timeout: Duration) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(1000))
        .set_number_of_retries(3)
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(response_timeout))
}

/// A client for `config.redis_url`; `rediss://` verifies the server against
/// `REDIS_TLS_CA_FILE` when set, and against the system's roots otherwise.
pub(super) fn open_client(config: &PulseConfig) -> Result<Client, String> {
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

/// Runs `fut` within [`COMMAND_TIMEOUT`], naming `what` and the server of `url` in errors.
pub(super) async fn bounded<T, F>(url: &str, what: &str, fut: F) -> Result<T, BusError>
where
    F: Future<Output = redis::RedisResult<T>>,
{
    within(COMMAND_TIMEOUT, url, what, fut).await
}

/// Runs `fut` within `timeout`, naming `what` and the server of `url` in errors.
pub(super) async fn within<T, F>(
    timeout: Duration,
    url: &str,
    what: &str,
    fut: F,
) -> Result<T, BusError>
where
    F: Future<Output = redis::RedisResult<T>>,
{
    match tokio::time::timeout(timeout, fut).await {
        Ok(result) => result.map_err(|error| match BusError::from(error) {
            BusError::Unavailable(e) => {
                BusError::Unavailable(format!("{what} on {}: {e}", redis_address(url)))
            }
            BusError::Command(e) => {
                BusError::Command(format!("{what} on {}: {e}", redis_address(url)))
            }
            other => other,
        }),
        Err(_) => Err(BusError::Unavailable(format!(
            "{what} on {} timed out after {} s",
            redis_address(url),
            timeout.as_secs_f64()
        ))),
    }
}
