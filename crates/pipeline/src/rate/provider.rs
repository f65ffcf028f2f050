//! A provider's configuration and the snapshot of its state.

use std::time::Duration;

use core_contracts::BackpressureLevel;

use core_contracts::breaker::BreakerState;

use super::RateError;

/// How a provider is rate limited. Defaults: 60 tokens, 60 tokens/s, breaker opening after
/// 5 consecutive failures for 30 s.
///
/// ```
/// use pipeline::rate::ProviderConfig;
/// let config = ProviderConfig::new(120, 10.0);
/// assert_eq!(config.capacity, 120);
/// assert_eq!(ProviderConfig::default().refill_rate, 60.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConfig {
    /// The most tokens the bucket holds (the largest burst and the largest single request).
    pub capacity: u32,
    /// Tokens added per second at budget scale 1.
    pub refill_rate: f64,
    /// Consecutive failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker refuses requests before letting a probe through.
    pub breaker_open_for: Duration,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            capacity: 60,
            refill_rate: 60.0,
            breaker_threshold: 5,
            breaker_open_for: Duration::from_secs(30),
        }
    }
}

impl ProviderConfig {
    /// A configuration with the given bucket and the default breaker.
    pub fn new(capacity: u32, refill_rate: f64) -> Self {
        Self {
            capacity,
            refill_rate,
            ..Self::default()
        }
    }

    /// Checks every rule: capacity and breaker threshold above 0, a finite positive rate.
    pub fn validate(&self, provider: &str) -> Result<(), RateError> {
        let invalid = |reason: &str| RateError::InvalidConfig {
            provider: provider.to_owned(),
            reason: reason.to_owned(),
        };
        if provider.trim().is_empty() {
            return Err(invalid("provider name must not be empty"));
        }
        if self.capacity == 0 {
            return Err(invalid("capacity must be > 0"));
        }
        if !self.refill_rate.is_finite() || self.refill_rate <= 0.0 {
            return Err(invalid("refill_rate must be a finite number > 0"));
        }
        if self.breaker_threshold == 0 {
            return Err(invalid("breaker_threshold must be > 0"));
        }
        Ok(())
    }
}

/// A snapshot of one provider, from [`super::RateCoordinator::get_provider_state`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderState {
    /// The provider.
    pub provider: String,
    /// The bucket's capacity.
    pub capacity: u32,
    /// Tokens per second at scale 1.
    pub base_rate: f64,
    /// Budget scale in force, in `[0, 1]`.
    pub scale: f64,
    /// Tokens per second in force: `base_rate x scale`.
    pub effective_rate: f64,
    /// Tokens held now.
    pub tokens: f64,
    /// The backpressure level last set.
    pub pressure: BackpressureLevel,
    /// Time left of the current cooldown, if any.
    pub cooldown_remaining: Option<Duration>,
    /// The circuit breaker's state.
    pub breaker: BreakerState,
    /// Callers waiting in `acquire`.
    pub waiters: usize,
}
