//! How the PostgreSQL sink's failures become [`SinkError`]s: connection and resource trouble
//! may pass (transient), bad data will not (permanent); trouble getting a session names the
//! server and the `sslmode`.

use std::path::Path;

use deadpool_postgres::{PoolError, TimeoutType};
use tokio_postgres::config::Host;

use crate::config::{PostgresOptions, PostgresUrl};
use crate::error_chain::error_chain;
use crate::sink::SinkError;

/// Maps a driver error: connection and resource trouble may pass, bad data will not.
pub(super) fn classify(err: tokio_postgres::Error) -> SinkError {
    classify_as("postgres", &err)
}

fn classify_as(context: &str, err: &tokio_postgres::Error) -> SinkError {
    let message = format!("{context}: {}", error_chain(err));
    let transient = match err.code() {
        Some(state) => {
            let code = state.code();
            ["08", "53", "57", "58", "40001", "40P01", "55P03"]
                .iter()
                .any(|prefix| code.starts_with(prefix))
        }
        None => {
            let text = err.to_string();
            !(text.starts_with("error serializing") || text.starts_with("error deserializing"))
        }
    };
    if transient {
        SinkError::Transient(message)
    } else {
        SinkError::Permanent(message)
    }
}

/// Where the sink connects, for messages: `127.0.0.1:5432 (sslmode=prefer)`, with the roots
/// a verifying mode trusts (`db:5432 (sslmode=verify-full, roots /etc/ca.pem)`). Never the
/// password.
pub(super) fn describe(url: &PostgresUrl, ca_file: Option<&Path>) -> String {
    let ports = url.config.get_ports();
    let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let mut hosts: Vec<String> = url
        .config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| match host {
            Host::Tcp(name) if name.contains(':') => format!("[{name}]:{}", port(i)),
            Host::Tcp(name) => format!("{name}:{}", port(i)),
            Host::Unix(dir) => format!("{}/.s.PGSQL.{}", dir.display(), port(i)),
        })
        .collect();
    if hosts.is_empty() {
        hosts = url
            .config
            .get_hostaddrs()
            .iter()
            .enumerate()
            .map(|(i, addr)| std::net::SocketAddr::new(*addr, port(i)).to_string())
            .collect();
    }
    let hosts = if hosts.is_empty() {
        "(no host)".to_owned()
    } else {
        hosts.join(",")
    };
    let roots = match ca_file {
        _ if !url.ssl_mode.verifies_certificate() => String::new(),
        Some(file) => format!(", roots {}", file.display()),
        None => ", the system's roots".to_owned(),
    };
    format!("{hosts} (sslmode={}{roots})", url.ssl_mode)
}

/// Maps a failure to get a session from the pool. `opening` is the sink's first connection:
/// there a TLS failure (no TLS on the server, a certificate refused) is
/// [`SinkError::Permanent`], a configuration to fix rather than an outage to wait out; while
/// running it stays transient, so that no batch is dead-lettered for it.
pub(super) fn pool_error(
    target: &str,
    options: &PostgresOptions,
    opening: bool,
    err: PoolError,
) -> SinkError {
    let timeout = options.pool_timeout.as_secs_f64();
    match err {
        PoolError::Timeout(TimeoutType::Wait) => SinkError::Transient(format!(
            "postgres at {target}: no connection free within {timeout} s (MDS_PG_POOL_TIMEOUT_SEC); \
             all {} (MDS_PG_POOL_SIZE) are busy",
            options.pool_size
        )),
        PoolError::Timeout(TimeoutType::Create) => SinkError::Transient(format!(
            "postgres at {target}: connecting took longer than {timeout} s (MDS_PG_POOL_TIMEOUT_SEC)"
        )),
        PoolError::Timeout(TimeoutType::Recycle) => SinkError::Transient(format!(
            "postgres at {target}: checking a pooled connection took longer than {timeout} s"
        )),
        PoolError::Backend(e) => match classify_as(&format!("postgres at {target}"), &e) {
            SinkError::Transient(message) if opening && is_tls_failure(&e) => {
                SinkError::Permanent(message)
            }
            other => other,
        },
        PoolError::Closed => SinkError::Permanent("postgres sink is closed".to_owned()),
        PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            SinkError::Permanent(format!("postgres at {target}: {err}"))
        }
    }
}

/// Whether the TLS handshake was refused or failed on a certificate, rather than the network.
fn is_tls_failure(err: &tokio_postgres::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if e.to_string() == "server does not support TLS" || e.is::<rustls::Error>() {
            return true;
        }
        // An `io::Error` hides the error it wraps from `source()`.
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && inner.is::<rustls::Error>()
        {
            return true;
        }
        cause = e.source();
    }
    false
}
