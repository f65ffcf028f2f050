//! Opens the Pulse bus from `PulseConfig::from_env` with the `--bus` override.

use anyhow::Context;
use pulse::{BackendKind, Pulse, PulseConfig, PulseMetrics};

use crate::cli::BusKind;

/// The Pulse of this process: the environment's settings, `bus` overriding
/// `EVENT_BUS_BACKEND`.
pub async fn open_pulse(bus: Option<BusKind>, metrics: PulseMetrics) -> anyhow::Result<Pulse> {
    let mut config = PulseConfig::from_env().context("invalid Pulse settings")?;
    if let Some(bus) = bus {
        config.backend = match bus {
            BusKind::Inmem => BackendKind::InMemory,
            BusKind::Redis => BackendKind::Redis,
        };
    }
    let backend = config.backend.as_str();
    let url = config.redis_url_redacted();
    let pulse = Pulse::from_config(config)
        .await
        .with_context(|| match backend {
            "redis" => format!("cannot open the redis bus at {url}"),
            _ => format!("cannot open the {backend} bus"),
        })?;
    Ok(pulse.with_metrics(metrics))
}
