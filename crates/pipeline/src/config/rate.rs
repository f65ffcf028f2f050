//! Rate settings: `MDP_RATE_*`, the bucket and breaker of the pipeline's provider.

use core_contracts::env::Env;

use super::ConfigError;
use crate::rate::ProviderConfig;

/// Bucket capacity in tokens, the largest burst (default 60).
pub const CAPACITY: &str = "MDP_RATE_CAPACITY";
/// Tokens per second at budget scale 1 (default 60).
pub const REFILL_PER_SEC: &str = "MDP_RATE_REFILL_PER_SEC";
/// Consecutive failures that open the provider's breaker (default 5).
pub const BREAKER_THRESHOLD: &str = "MDP_RATE_BREAKER_THRESHOLD";
/// Seconds an open breaker refuses requests (default 30).
pub const BREAKER_OPEN_SEC: &str = "MDP_RATE_BREAKER_OPEN_SEC";

pub(crate) fn read(env: &Env<'_>) -> Result<ProviderConfig, ConfigError> {
    let defaults = ProviderConfig::default();
    Ok(ProviderConfig {
        capacity: env.count(CAPACITY, defaults.capacity)?,
        refill_rate: env.positive(REFILL_PER_SEC, defaults.refill_rate)?,
        breaker_threshold: env.count(BREAKER_THRESHOLD, defaults.breaker_threshold)?,
        breaker_open_for: env.secs(BREAKER_OPEN_SEC, defaults.breaker_open_for)?,
    })
}
