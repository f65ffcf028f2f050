//! Revisions: which of two bars with the same key is the newer one. A sink keeps the bar of
//! the highest revision for each key, whatever order writes arrive in.
//!
//! A revision is `ms << 20 | seq` with `seq` capped at `2^20 - 1`: for a bar read from a
//! Redis stream, `ms` and `seq` are those of its entry id `"<ms>-<seq>"`, so revisions compare
//! in the order of the entries (for up to 2^20 entries in one millisecond); for any other bar,
//! a [`RevisionGenerator`] derives them from the unix milliseconds of a clock, so a later run's
//! bars outrank an earlier run's.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use core_contracts::Clock;
use serde::{Deserialize, Serialize};

/// Bits of a revision that hold the sequence within a millisecond.
const SEQ_BITS: u32 = 20;
/// The largest sequence a revision keeps; larger ones are capped to it.
pub const MAX_SEQ: u64 = (1 << SEQ_BITS) - 1;
/// The largest millisecond a revision holds (`i64::MAX >> 20`, about the year 2248).
const MAX_MS: u64 = (i64::MAX as u64) >> SEQ_BITS;

/// The revision of a bar: a higher one replaces a lower one of the same key. Serialised as a
/// plain integer; rows written before revisions existed have revision 0.
///
/// ```
/// use store::sink::Revision;
/// let first = Revision::from_entry_id("1714570200000-0").expect("stream id");
/// let second = Revision::from_entry_id("1714570200000-1").expect("stream id");
/// assert!(first < second);
/// assert_eq!(Revision::from_entry_id("not-an-id"), None);
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Revision(i64);

impl Revision {
    /// The revision of rows written before revisions existed.
    pub const ZERO: Self = Self(0);

    /// A revision with the raw value `value`.
    pub const fn new(value: i64) -> Self {
        Self(value)
    }

    /// The raw value, as stored in the `revision` column.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// `ms << 20 | min(seq, 2^20 - 1)`; `None` when `ms` does not fit in 43 bits.
    pub fn from_parts(ms: u64, seq: u64) -> Option<Self> {
        if ms > MAX_MS {
            return None;
        }
        let value = (ms << SEQ_BITS) | seq.min(MAX_SEQ);
        i64::try_from(value).ok().map(Self)
    }

    /// The revision of a Redis stream entry id `"<ms>-<seq>"`; `None` for anything else.
    /// Ids compare in the same order as their revisions, except that entries past the
    /// 2^20-th of one millisecond share its revision.
    pub fn from_entry_id(id: &str) -> Option<Self> {
        let (ms, seq) = id.split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return None;
        }
        // A sequence too long for u64 is still past the cap.
        let seq = seq.parse::<u64>().unwrap_or(u64::MAX);
        Self::from_parts(ms.parse().ok()?, seq)
    }

    /// The first revision of the millisecond `unix_seconds` falls in (0 before 1970).
    fn of_unix_seconds(unix_seconds: f64) -> Self {
        let ms = (unix_seconds * 1000.0).floor().max(0.0);
        // `as` saturates; beyond MAX_MS the largest millisecond is used.
        Self::from_parts((ms as u64).min(MAX_MS), 0).unwrap_or(Self(i64::MAX))
    }
}

/// Hands out strictly increasing revisions for bars that do not come from a bus: each is the
/// clock's current millisecond in the stream-id encoding, or one more than the previous one
/// when that is not larger. Clones share the sequence.
#[derive(Debug, Clone)]
pub struct RevisionGenerator {
    clock: Arc<dyn Clock>,
    last: Arc<AtomicI64>,
}

impl RevisionGenerator {
    /// A generator on `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            last: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// The next revision: larger than every one this generator gave before.
    pub fn next(&self) -> Revision {
        let now = Revision::of_unix_seconds(self.clock.unix_seconds()).0;
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = now.max(last.saturating_add(1));
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Revision(next),
                Err(seen) => last = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    /// A wall clock set by hand that can also step back (`ManualClock` only advances), as a
    /// real wall clock may.
    #[derive(Debug)]
    struct FixedClock(Mutex<f64>);

    impl Clock for FixedClock {
        fn elapsed(&self) -> Duration {
            Duration::ZERO
        }

        fn unix_seconds(&self) -> f64 {
            *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    #[test]
    fn encodes_stream_entry_ids_as_ms_and_capped_seq() {
        let cases = [
            ("0-0", Some(0)),
            ("0-1", Some(1)),
            ("1-0", Some(1 << 20)),
            ("1714570200000-7", Some((1_714_570_200_000 << 20) | 7)),
            ("5-1048575", Some((5 << 20) | 1_048_575)),
            ("5-1048576", Some((5 << 20) | 1_048_575)),
            ("5-99999999999999999999999", Some((5 << 20) | 1_048_575)),
            ("8796093022207-0", Some(8_796_093_022_207 << 20)),
            ("8796093022208-0", None),
            ("", None),
            ("12", None),
            ("-1", None),
            ("1-", None),
            ("1--2", None),
            ("a-1", None),
            ("1-+2", None),
            ("1-2-3", None),
        ];
        for (id, want) in cases {
            assert_eq!(
                Revision::from_entry_id(id),
                want.map(Revision::new),
                "{id:?}"
            );
        }
    }

    #[test]
    fn entry_ids_compare_in_entry_order() {
        let ids = [
            "0-0",
            "0-1",
            "0-1048575",
            "1-0",
            "1-2",
            "999-0",
            "1000-0",
            "1714570200000-0",
            "1714570200001-0",
        ];
        let revisions: Vec<Revision> = ids
            .iter()
            .map(|id| Revision::from_entry_id(id).expect("stream id"))
            .collect();
        assert!(revisions.windows(2).all(|w| w[0] < w[1]), "{revisions:?}");
    }

    #[test]
    fn serialises_as_a_plain_integer() {
        let json = serde_json::to_string(&Revision::new(42)).expect("encodes");
        assert_eq!(json, "42");
        let back: Revision = serde_json::from_str("42").expect("decodes");
        assert_eq!(back, Revision::new(42));
    }

    #[test]
    fn generated_revisions_follow_the_clock_and_strictly_increase() {
        let clock = Arc::new(FixedClock(Mutex::new(1_714_570_200.0)));
        let generator = RevisionGenerator::new(clock.clone());
        let base = 1_714_570_200_000_i64 << 20;
        // (clock seconds, expected revision)
        let cases = [
            (1_714_570_200.0, base),
            (1_714_570_200.0, base + 1),
            (1_714_570_200.0, base + 2),
            (1_714_570_199.0, base + 3),
            (1_714_570_200.002_5, base + (2 << 20)),
            (1_714_570_200.002_9, base + (2 << 20) + 1),
        ];
        for (seconds, want) in cases {
            *clock.0.lock().expect("clock") = seconds;
            assert_eq!(generator.next(), Revision::new(want), "{seconds}");
        }
    }

    #[test]
    fn a_later_run_outranks_an_earlier_run_and_its_stream_ids() {
        let clock = Arc::new(FixedClock(Mutex::new(1_714_570_200.0)));
        let earlier = RevisionGenerator::new(clock.clone());
        let from_earlier = earlier.next();
        let entry = Revision::from_entry_id("1714570200000-5").expect("stream id");
        *clock.0.lock().expect("clock") = 1_714_570_200.001;
        let later = RevisionGenerator::new(clock);
        assert!(later.next() > from_earlier);
        assert!(later.next() > entry);
    }

    #[test]
    fn clamps_clocks_before_1970_to_zero() {
        let generator = RevisionGenerator::new(Arc::new(FixedClock(Mutex::new(-5.0))));
        assert_eq!(generator.next(), Revision::ZERO);
        assert_eq!(generator.next(), Revision::new(1));
    }
}
