//! `RateCoordinator`: one token bucket per provider, with a fair queue, a budget scale,
//! a pressure level, a cooldown and a circuit breaker.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Duration;

use core_contracts::breaker::{Admission, BreakerConfig, CircuitBreaker};
use core_contracts::{BackpressureLevel, Clock, TokioClock};

use super::waiters::WaitQueue;
use super::{ProviderConfig, ProviderState, RateError, TokenBucket};
use crate::telemetry::{PipelineMetrics, ProviderHandles};

/// Rate limits for every registered provider.
///
/// `acquire` waits for tokens in arrival order (FIFO): a caller never overtakes one that
/// came earlier. Only the caller at the head of a provider's queue sleeps on the bucket;
/// no lock is held while anyone sleeps, so scale changes, cooldowns and state reads never
/// wait for a sleeping caller. Every other method returns at once.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), pipeline::rate::RateError> {
/// use pipeline::rate::{ProviderConfig, RateCoordinator};
/// let rates = RateCoordinator::new();
/// rates.register_provider("ibkr", ProviderConfig::default())?;
/// rates.acquire("ibkr", 60).await?; // the initial burst
/// let start = tokio::time::Instant::now();
/// rates.acquire("ibkr", 30).await?; // 30 tokens at 60/s
/// assert_eq!(start.elapsed().as_millis(), 500);
/// assert!(rates.acquire("nope", 1).await.is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RateCoordinator {
    clock: Arc<dyn Clock>,
    metrics: PipelineMetrics,
    providers: RwLock<HashMap<String, Arc<Provider>>>,
}

#[derive(Debug)]
struct Provider {
    name: String,
    capacity: u32,
    breaker_open_for: Duration,
    handles: ProviderHandles,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    bucket: TokenBucket,
    pressure: BackpressureLevel,
    cooldown_until: Option<Duration>,
    breaker: CircuitBreaker,
    queue: WaitQueue,
}

impl State {
    fn cooldown_remaining(&self, now: Duration) -> Option<Duration> {
        self.cooldown_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }
}

impl Provider {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the head of the queue does next.
enum Step {
    Granted,
    Sleep(Duration),
    Park,
}

/// A place in a provider's queue, given up when the acquiring future ends or is dropped.
struct Place<'a> {
    provider: &'a Provider,
    id: u64,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.provider.lock().queue.remove(self.id);
    }
}

impl Default for RateCoordinator {
    fn default() -> Self {
        Self::new()
    }
}

impl RateCoordinator {
    /// A coordinator on tokio's clock with unregistered metrics.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(TokioClock::new()), PipelineMetrics::default())
    }

    /// A coordinator on `clock`, recording into `metrics`.
    ///
    /// Waits sleep on tokio's timer, so `clock` must advance with tokio time (as
    /// [`TokioClock`] and the system clock do).
    pub fn with_clock(clock: Arc<dyn Clock>, metrics: PipelineMetrics) -> Self {
        Self {
            clock,
            metrics,
            providers: RwLock::new(HashMap::new()),
        }
    }

    /// Registers `name` with a full bucket, scale 1, level ok and a closed breaker.
    pub fn register_provider(&self, name: &str, config: ProviderConfig) -> Result<(), RateError> {
        config.validate(name)?;
        let mut providers = self
            .providers
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if providers.contains_key(name) {
            return Err(RateError::AlreadyRegistered(name.to_owned()));
        }
        let now = self.clock.elapsed();
        let handles = self.metrics.provider_handles(name);
        handles.scale_set(1.0);
        handles.pressure_set(BackpressureLevel::Ok);
        let provider = Provider {
            name: name.to_owned(),
            capacity: config.capacity,
            breaker_open_for: config.breaker_open_for,
            handles,
            state: Mutex::new(State {
                bucket: TokenBucket::new(config.capacity, config.refill_rate, now),
                pressure: BackpressureLevel::Ok,
                cooldown_until: None,
                breaker: CircuitBreaker::new(breaker_config(&config)),
                queue: WaitQueue::default(),
            }),
        };
        providers.insert(name.to_owned(), Arc::new(provider));
        Ok(())
    }

    /// The registered providers, in no particular order.
    pub fn providers(&self) -> Vec<String> {
        self.providers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    fn provider(&self, name: &str) -> Result<Arc<Provider>, RateError> {
        self.providers
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
            .ok_or_else(|| RateError::UnknownProvider(name.to_owned()))
    }

    /// Waits until `n` tokens of `provider` are granted, behind every earlier caller.
    ///
    /// Fails at once for an unknown provider, for `n` above the bucket's capacity, and while
    /// the provider's breaker is open. At budget scale 0 the wait lasts until the scale
    /// rises. Dropping the future gives up the caller's place in the queue.
    pub async fn acquire(&self, provider: &str, n: u32) -> Result<(), RateError> {
        let provider = self.provider(provider)?;
        if n > provider.capacity {
            return Err(RateError::ExceedsCapacity {
                provider: provider.name.clone(),
                requested: n,
                capacity: provider.capacity,
            });
        }
        if n == 0 {
            return Ok(());
        }
        let (id, wake) = {
            let mut state = provider.lock();
            let now = self.clock.elapsed();
            if let (Admission::Rejected { retry_in }, _) = state.breaker.admit(now) {
                return Err(RateError::CircuitOpen {
                    provider: provider.name.clone(),
                    retry_after: retry_in.unwrap_or(provider.breaker_open_for),
                });
            }
            if state.queue.is_empty()
                && state.cooldown_remaining(now).is_none()
                && state.bucket.try_take(n, now).is_ok()
            {
                drop(state);
                provider.handles.granted(n);
                return Ok(());
            }
            state.queue.enqueue()
        };
        let place = Place {
            provider: &provider,
            id,
        };
        loop {
            match self.step(&provider, id, n) {
                Step::Granted => break,
                Step::Sleep(wait) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = wake.notified() => {}
                    }
                }
                Step::Park => wake.notified().await,
            }
        }
        drop(place);
        provider.handles.granted(n);
        Ok(())
    }

    /// One look at the bucket by waiter `id`; takes the tokens when it is the head and the
    /// bucket holds them.
    fn step(&self, provider: &Provider, id: u64, n: u32) -> Step {
        let mut state = provider.lock();
        if !state.queue.is_head(id) {
            return Step::Park;
        }
        let now = self.clock.elapsed();
        if let Some(left) = state.cooldown_remaining(now) {
            return Step::Sleep(left);
        }
        match state.bucket.try_take(n, now) {
            Ok(()) => Step::Granted,
            Err(Some(wait)) => Step::Sleep(wait),
            Err(None) => Step::Park,
        }
    }

    /// Sets `provider`'s budget scale, clamped to `[0, 1]`; returns the scale applied.
    ///
    /// Scale 0 is a pause: the bucket is emptied and nothing is granted until the scale
    /// rises. A lower scale caps the tokens held to `capacity x scale`.
    pub fn set_budget_scale(&self, provider: &str, scale: f64) -> Result<f64, RateError> {
        let provider = self.provider(provider)?;
        if scale.is_nan() {
            return Err(RateError::InvalidScale {
                provider: provider.name.clone(),
                scale,
            });
        }
        let applied = {
            let mut state = provider.lock();
            let applied = state.bucket.set_scale(scale, self.clock.elapsed());
            state.queue.wake_head();
            applied
        };
        provider.handles.scale_set(applied);
        Ok(applied)
    }

    /// Sets `provider`'s rate at scale 1, in tokens per second, from now on (feedback still
    /// scales it). Fails for a rate that is not finite and `> 0`.
    pub fn set_base_rate(&self, provider: &str, rate: f64) -> Result<(), RateError> {
        let provider = self.provider(provider)?;
        if !(rate.is_finite() && rate > 0.0) {
            return Err(RateError::InvalidRate {
                provider: provider.name.clone(),
                rate,
            });
        }
        let mut state = provider.lock();
        state.bucket.set_base_rate(rate, self.clock.elapsed());
        state.queue.wake_head();
        Ok(())
    }

    /// Records the backpressure level in force for `provider` (state and telemetry; the
    /// budget scale is what slows the provider down).
    pub fn set_global_pressure(
        &self,
        provider: &str,
        level: BackpressureLevel,
    ) -> Result<(), RateError> {
        let provider = self.provider(provider)?;
        provider.lock().pressure = level;
        provider.handles.pressure_set(level);
        Ok(())
    }

    /// Holds back every grant of `provider` for `duration` from now (a longer cooldown
    /// already running is kept). Returns at once; waiting callers wait longer.
    pub fn cooldown(&self, provider: &str, duration: Duration) -> Result<(), RateError> {
        let provider = self.provider(provider)?;
        let mut state = provider.lock();
        let until = self.clock.elapsed() + duration;
        state.cooldown_until = Some(state.cooldown_until.map_or(until, |u| u.max(until)));
        state.queue.wake_head();
        Ok(())
    }

    /// Records a successful call to `provider`: its breaker closes (a call that succeeds
    /// while the breaker is open is one admitted before it opened, and changes nothing).
    pub fn record_success(&self, provider: &str) -> Result<(), RateError> {
        self.provider(provider)?.lock().breaker.on_success(true);
        Ok(())
    }

    /// Records a failed call to `provider`: enough of them open its breaker, and a failed
    /// probe re-opens it.
    pub fn record_failure(&self, provider: &str) -> Result<(), RateError> {
        let provider = self.provider(provider)?;
        let now = self.clock.elapsed();
        provider.lock().breaker.on_failure(true, now);
        Ok(())
    }

    /// A snapshot of `provider`.
    pub fn get_provider_state(&self, provider: &str) -> Result<ProviderState, RateError> {
        let provider = self.provider(provider)?;
        let now = self.clock.elapsed();
        let mut state = provider.lock();
        Ok(ProviderState {
            provider: provider.name.clone(),
            capacity: provider.capacity,
            base_rate: state.bucket.base_rate(),
            scale: state.bucket.scale(),
            effective_rate: state.bucket.rate(),
            tokens: state.bucket.tokens(now),
            pressure: state.pressure,
            cooldown_remaining: state.cooldown_remaining(now),
            breaker: state.breaker.state_at(now),
            waiters: state.queue.len(),
        })
    }
}

/// A provider's breaker: its threshold and open period, and a probe that never reports back
/// (the caller never says how its call went) replaced after another open period.
fn breaker_config(config: &ProviderConfig) -> BreakerConfig {
    BreakerConfig {
        failure_threshold: NonZeroU32::new(config.breaker_threshold).unwrap_or(NonZeroU32::MIN),
        open_for: config.breaker_open_for,
        probe_timeout: Some(config.breaker_open_for),
    }
}
