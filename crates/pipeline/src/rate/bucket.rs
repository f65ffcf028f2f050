//! The token bucket: pure arithmetic on a monotonic reading, no locks and no sleeping.

use std::time::Duration;

/// Slack for floating-point refill arithmetic: a bucket this close to `n` tokens has them.
const EPSILON: f64 = 1e-9;

/// A token bucket of fixed capacity refilled at `base_rate x scale` tokens per second.
///
/// Every method takes `now`, the monotonic time of an injected clock, so the bucket is
/// deterministic under test.
///
/// ```
/// use pipeline::rate::TokenBucket;
/// use std::time::Duration;
/// let mut bucket = TokenBucket::new(10, 5.0, Duration::ZERO);
/// assert!(bucket.try_take(10, Duration::ZERO).is_ok());
/// // Two tokens at 5 tokens/s take 400 ms.
/// assert_eq!(bucket.try_take(2, Duration::ZERO), Err(Some(Duration::from_millis(400))));
/// assert!(bucket.try_take(2, Duration::from_millis(400)).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    capacity: f64,
    base_rate: f64,
    scale: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket of `capacity` tokens refilled at `base_rate` tokens per second.
    ///
    /// The caller validates that `capacity > 0` and that `base_rate` is finite and `> 0`.
    pub fn new(capacity: u32, base_rate: f64, now: Duration) -> Self {
        Self {
            capacity: f64::from(capacity),
            base_rate,
            scale: 1.0,
            tokens: f64::from(capacity),
            last: now,
        }
    }

    /// Adds the tokens earned since the last reading, up to the capacity.
    pub fn refill(&mut self, now: Duration) {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate()).min(self.capacity);
    }

    /// Takes `n` tokens if the bucket holds them.
    ///
    /// Otherwise returns how long the bucket needs at the current rate to hold `n` tokens,
    /// or `None` when it never will at this rate (scale 0, or `n` above the capacity).
    pub fn try_take(&mut self, n: u32, now: Duration) -> Result<(), Option<Duration>> {
        self.refill(now);
        let n = f64::from(n);
        if self.tokens + EPSILON >= n {
            self.tokens = (self.tokens - n).max(0.0);
            return Ok(());
        }
        let rate = self.rate();
        if rate <= 0.0 || n > self.capacity {
            return Err(None);
        }
        Err(Some(Duration::from_secs_f64((n - self.tokens) / rate)))
    }

    /// Sets the budget scale, clamped to `[0, 1]`, and returns the scale now in force.
    ///
    /// Tokens earned so far are credited at the old rate. When the scale falls, the tokens
    /// held are capped to the new budget, `capacity x scale`: a pause (scale 0) empties the
    /// bucket, so nothing is granted until the scale rises again.
    pub fn set_scale(&mut self, scale: f64, now: Duration) -> f64 {
        self.refill(now);
        let scale = scale.clamp(0.0, 1.0);
        if scale < self.scale {
            self.tokens = self.tokens.min(self.capacity * scale);
        }
        self.scale = scale;
        scale
    }

    /// Sets the refill rate at scale 1 (the caller validates it: finite, `> 0`). Tokens
    /// earned so far are credited at the old rate; the tokens held are kept.
    pub fn set_base_rate(&mut self, base_rate: f64, now: Duration) {
        self.refill(now);
        self.base_rate = base_rate;
    }

    /// The tokens held at `now`.
    pub fn tokens(&mut self, now: Duration) -> f64 {
        self.refill(now);
        self.tokens
    }

    /// The budget scale in force.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The refill rate in force, tokens per second: `base_rate x scale`.
    pub fn rate(&self) -> f64 {
        self.base_rate * self.scale
    }

    /// The refill rate at scale 1, tokens per second.
    pub fn base_rate(&self) -> f64 {
        self.base_rate
    }

    /// The most tokens the bucket holds.
    pub fn capacity(&self) -> f64 {
        self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    /// Asserts a wait equal to `expected` within a microsecond of float rounding.
    fn assert_wait(got: Result<(), Option<Duration>>, expected: Duration) {
        let Err(Some(wait)) = got else {
            panic!("expected a wait of {expected:?}, got {got:?}");
        };
        assert!(
            wait.abs_diff(expected) < Duration::from_micros(1),
            "{wait:?} != {expected:?}"
        );
    }

    #[test]
    fn starts_full_and_grants_a_burst_up_to_capacity() {
        let mut bucket = TokenBucket::new(60, 60.0, ms(0));
        assert_eq!(bucket.try_take(60, ms(0)), Ok(()));
        assert_wait(bucket.try_take(1, ms(0)), ms(1000) / 60);
    }

    #[test]
    fn wait_time_for_n_tokens_follows_the_rate() {
        let cases: &[(u32, f64, f64, u32, Option<Duration>)] = &[
            // capacity, base rate, scale, n, expected wait from an empty bucket
            (60, 60.0, 1.0, 30, Some(ms(500))),
            (60, 60.0, 0.5, 30, Some(ms(1000))),
            (10, 2.0, 1.0, 1, Some(ms(500))),
            (10, 2.0, 1.0, 10, Some(ms(5000))),
            (60, 60.0, 0.0, 1, None),
        ];
        for &(capacity, rate, scale, n, expected) in cases {
            let mut bucket = TokenBucket::new(capacity, rate, ms(0));
            assert_eq!(bucket.try_take(capacity, ms(0)), Ok(()));
            bucket.set_scale(scale, ms(0));
            assert_eq!(
                bucket.try_take(n, ms(0)),
                Err(expected),
                "capacity {capacity} rate {rate} scale {scale} n {n}"
            );
        }
    }

    #[test]
    fn refills_at_the_rate_and_never_above_capacity() {
        let mut bucket = TokenBucket::new(10, 5.0, ms(0));
        assert_eq!(bucket.try_take(10, ms(0)), Ok(()));
        assert!((bucket.tokens(ms(1000)) - 5.0).abs() < 1e-9);
        assert!((bucket.tokens(ms(60_000)) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn a_new_base_rate_applies_from_now_on() {
        let mut bucket = TokenBucket::new(100, 10.0, ms(0));
        assert_eq!(bucket.try_take(100, ms(0)), Ok(()));
        // One second at 10/s, then one at 50/s: 60 tokens.
        bucket.set_base_rate(50.0, ms(1000));
        assert!((bucket.tokens(ms(2000)) - 60.0).abs() < 1e-9);
        bucket.set_scale(0.5, ms(2000));
        assert!((bucket.rate() - 25.0).abs() < 1e-9);
        assert!((bucket.base_rate() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn scale_is_clamped_to_the_unit_interval() {
        let mut bucket = TokenBucket::new(10, 10.0, ms(0));
        for (asked, applied) in [(1.5, 1.0), (-0.2, 0.0), (0.25, 0.25), (1.0, 1.0)] {
            assert_eq!(bucket.set_scale(asked, ms(0)), applied);
        }
    }

    #[test]
    fn lowering_the_scale_caps_the_tokens_held() {
        let cases = [(1.0, 60.0), (0.5, 30.0), (0.1, 6.0), (0.0, 0.0)];
        for (scale, cap) in cases {
            let mut bucket = TokenBucket::new(60, 60.0, ms(0));
            bucket.set_scale(scale, ms(0));
            assert!((bucket.tokens(ms(0)) - cap).abs() < 1e-9, "scale {scale}");
        }
    }

    #[test]
    fn raising_the_scale_keeps_the_tokens_held() {
        let mut bucket = TokenBucket::new(60, 60.0, ms(0));
        bucket.set_scale(0.5, ms(0));
        bucket.set_scale(0.6, ms(0));
        assert!((bucket.tokens(ms(0)) - 30.0).abs() < 1e-9);
    }

    #[test]
    fn a_paused_bucket_earns_nothing_until_the_scale_rises() {
        let mut bucket = TokenBucket::new(60, 60.0, ms(0));
        bucket.set_scale(0.0, ms(0));
        assert_eq!(bucket.try_take(1, ms(3_600_000)), Err(None));
        bucket.set_scale(1.0, ms(3_600_000));
        assert_wait(bucket.try_take(1, ms(3_600_000)), ms(1000) / 60);
        assert_eq!(bucket.try_take(60, ms(3_601_000)), Ok(()));
    }
}
