//! `SyntheticSource`: seeded, deterministic random-walk bars.

use chrono::{DateTime, TimeDelta, Utc};
use core_contracts::Bar;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use super::SourceError;

/// An endless stream of valid bars: one random walk per symbol, symbols in turn, each round
/// one resolution step later. The same seed, symbols and start give the same bars.
///
/// ```
/// use pipeline::source::SyntheticSource;
/// let symbols = vec!["AAPL".to_owned(), "MSFT".to_owned()];
/// let a: Vec<_> = SyntheticSource::new("ibkr", symbols.clone(), "1m", 7)?.take(10).collect();
/// let b: Vec<_> = SyntheticSource::new("ibkr", symbols, "1m", 7)?.take(10).collect();
/// assert_eq!(a, b);
/// assert_eq!(a[0].symbol, "AAPL");
/// assert_eq!(a[2].ts - a[0].ts, chrono::TimeDelta::minutes(1));
/// # Ok::<(), pipeline::source::SourceError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    provider: String,
    symbols: Vec<String>,
    resolution: String,
    step: TimeDelta,
    start: DateTime<Utc>,
    rng: StdRng,
    closes: Vec<i64>,
    produced: u64,
}

/// 2024-01-02T14:30:00Z, a market open: the default first bar time.
const DEFAULT_START_SECS: i64 = 1_704_205_800;

impl SyntheticSource {
    /// A generator for `symbols` of `provider` at `resolution` (`30s`, `1m`, `1h`, `1d`...).
    pub fn new(
        provider: impl Into<String>,
        symbols: Vec<String>,
        resolution: impl Into<String>,
        seed: u64,
    ) -> Result<Self, SourceError> {
        let resolution = resolution.into();
        let step = parse_resolution(&resolution)?;
        if symbols.is_empty() || symbols.iter().any(|s| s.trim().is_empty()) {
            return Err(SourceError::Invalid(
                "the synthetic source needs at least one non-empty symbol".to_owned(),
            ));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let closes = symbols
            .iter()
            .map(|_| rng.random_range(5_000..=50_000))
            .collect();
        Ok(Self {
            provider: provider.into(),
            symbols,
            resolution,
            step,
            start: DateTime::from_timestamp(DEFAULT_START_SECS, 0).unwrap_or_default(),
            rng,
            closes,
            produced: 0,
        })
    }

    /// Starts the bars at `start` instead of 2024-01-02T14:30:00Z.
    pub fn starting_at(mut self, start: DateTime<Utc>) -> Self {
        self.start = start;
        self
    }
}

fn parse_resolution(resolution: &str) -> Result<TimeDelta, SourceError> {
    let digits = resolution.chars().take_while(char::is_ascii_digit).count();
    let count: i64 = resolution[..digits].parse().unwrap_or(0);
    let step = match &resolution[digits..] {
        "s" => TimeDelta::try_seconds(count),
        "m" => TimeDelta::try_minutes(count),
        "h" => TimeDelta::try_hours(count),
        "d" => TimeDelta::try_days(count),
        _ => None,
    };
    step.filter(|s| *s > TimeDelta::zero()).ok_or_else(|| {
        SourceError::Invalid(format!(
            "resolution must be a positive count of s, m, h or d, got {resolution:?}"
        ))
    })
}

fn cents(value: i64) -> Decimal {
    Decimal::new(value, 2)
}

impl Iterator for SyntheticSource {
    type Item = Bar;

    fn next(&mut self) -> Option<Bar> {
        let n = self.symbols.len() as u64;
        let index = usize::try_from(self.produced % n).unwrap_or(0);
        let round = i32::try_from(self.produced / n).ok()?;
        let ts = self
            .start
            .checked_add_signed(self.step.checked_mul(round)?)?;
        self.produced += 1;
        let open = self.closes[index];
        let close = (open + self.rng.random_range(-50..=50)).max(100);
        let high = open.max(close) + self.rng.random_range(0..=25);
        let low = (open.min(close) - self.rng.random_range(0..=25)).max(1);
        self.closes[index] = close;
        Some(Bar {
            provider: self.provider.clone(),
            symbol: self.symbols[index].clone(),
            resolution: self.resolution.clone(),
            ts,
            open: cents(open),
            high: cents(high),
            low: cents(low),
            close: cents(close),
            volume: Decimal::from(self.rng.random_range(100..=10_000)),
            delayed: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(seed: u64) -> SyntheticSource {
        SyntheticSource::new("ibkr", vec!["A".into(), "B".into(), "C".into()], "5m", seed)
            .expect("valid source")
    }

    #[test]
    fn every_bar_is_valid_and_keys_are_unique() {
        let bars: Vec<Bar> = source(1).take(3_000).collect();
        let mut keys = std::collections::HashSet::new();
        for bar in &bars {
            bar.validate().expect("synthetic bars are valid");
            assert!(keys.insert(bar.key()), "duplicate key {:?}", bar.key());
        }
    }

    #[test]
    fn the_seed_decides_the_bars() {
        let a: Vec<Bar> = source(1).take(50).collect();
        let b: Vec<Bar> = source(1).take(50).collect();
        let c: Vec<Bar> = source(2).take(50).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn resolutions_parse_to_steps() {
        let cases = [
            ("30s", Some(TimeDelta::seconds(30))),
            ("1m", Some(TimeDelta::minutes(1))),
            ("4h", Some(TimeDelta::hours(4))),
            ("1d", Some(TimeDelta::days(1))),
            ("0m", None),
            ("m", None),
            ("1w", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_resolution(text).ok(), expected, "{text}");
        }
    }
}
