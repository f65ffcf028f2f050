//! Opens the Pulse bus from `PulseConfig::from_env` with the `--bus` override: refuses the
//! in-process bus to the services and tools unless it was chosen explicitly (they would
//! talk to nobody), and waits at most `PULSE_STARTUP_TIMEOUT_MS` for Redis to answer,
//! failing with its address and the cause.

use std::time::Duration;

use anyhow::Context;
use pulse::{BackendKind, Pulse, PulseConfig, PulseMetrics};

use crate::cli::BusKind;

/// Who opens the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusUser {
    /// `mdp run`: the in-process bus is its default.
    Run,
    /// A service or tool (`store`, `pipeline`, `pulse ...`), named: it needs a bus shared
    /// with other processes.
    Shared(&'static str),
}

/// How often Redis is asked at start while it does not answer.
const STARTUP_PROBE_EVERY: Duration = Duration::from_millis(250);

/// The Pulse of this process: the environment's settings, `bus` overriding
/// `EVENT_BUS_BACKEND`.
pub async fn open_pulse(
    bus: Option<BusKind>,
    metrics: PulseMetrics,
    user: BusUser,
) -> anyhow::Result<Pulse> {
    let mut config = PulseConfig::from_env().context("invalid Pulse settings")?;
    let chosen =
        bus.is_some() || std::env::var("EVENT_BUS_BACKEND").is_ok_and(|v| !v.trim().is_empty());
    if let Some(bus) = bus {
        config.backend = match bus {
            BusKind::Inmem => BackendKind::InMemory,
            BusKind::Redis => BackendKind::Redis,
        };
    }
    if let BusUser::Shared(what) = user
        && !chosen
    {
        anyhow::bail!(
            "{what} needs a bus shared with other processes: set EVENT_BUS_BACKEND=redis and \
             REDIS_URL (or pass --bus redis); EVENT_BUS_BACKEND is unset, and the in-process \
             bus (--bus inmem) reaches nobody outside this process"
        );
    }
    let redis = config.backend == BackendKind::Redis;
    let address = config.redis_address();
    let patience = config.startup_timeout;
    let pulse = Pulse::from_config(config)
        .await
        .with_context(|| match redis {
            true => format!("cannot open the Redis bus at {address} (REDIS_URL)"),
            false => "cannot open the in-process bus".to_owned(),
        })?;
    if redis {
        wait_for_redis(&pulse, &address, patience).await?;
    }
    Ok(pulse.with_metrics(metrics))
}

/// Returns once Redis answers a PING; fails after `patience` with the last cause.
async fn wait_for_redis(pulse: &Pulse, address: &str, patience: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut failures = 0u32;
    loop {
        let health = pulse.health().await;
        let status = health.get("status").map_or("ok", String::as_str);
        if status == "ok" {
            if failures > 0 {
                tracing::info!(redis = address, "Redis answers");
            }
            return Ok(());
        }
        failures += 1;
        let cause = status.strip_prefix("error: ").unwrap_or(status);
        if refused_login(cause) {
            anyhow::bail!("Redis at {address} (REDIS_URL) refused the login: {cause}");
        }
        if tokio::time::Instant::now() + STARTUP_PROBE_EVERY > deadline {
            anyhow::bail!(
                "cannot reach Redis at {address} (REDIS_URL) within {} s \
                 (PULSE_STARTUP_TIMEOUT_MS): {cause}",
                patience.as_secs_f64()
            );
        }
        if failures == 1 {
            tracing::warn!(redis = address, cause, "Redis does not answer yet, waiting");
        }
        tokio::time::sleep(STARTUP_PROBE_EVERY).await;
    }
}

/// Whether Redis refused the credentials: waiting longer will not help.
fn refused_login(cause: &str) -> bool {
    [
        "WRONGPASS",
        "NOAUTH",
        "AuthenticationFailed",
        "invalid password",
        "invalid username-password",
    ]
    .iter()
    .any(|sign| cause.contains(sign))
}
