//! Keeps the newest bar of each key in a batch (highest revision; on a tie the later one), so
//! one upsert statement never touches a row twice (PostgreSQL refuses that) and every backend
//! agrees on which duplicate wins. Keys
//! compare `ts` at the precision the sink stores: two bars a few nanoseconds apart are one row
//! in PostgreSQL (microseconds) but two in SQLite (nanosecond text).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use core_contracts::Bar;

use super::{Revision, SinkError};

/// The resolution at which a sink stores `ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsPrecision {
    /// Nanoseconds (SQLite's RFC 3339 text with nine digits).
    Nanos,
    /// Microseconds as PostgreSQL's `TIMESTAMPTZ` keeps them: the driver truncates the
    /// offset from 2000-01-01 toward zero.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    PostgresMicros,
}

impl TsPrecision {
    /// `ts` as the sink stores it, as a number.
    fn key(self, ts: &DateTime<Utc>) -> i128 {
        match self {
            Self::Nanos => {
                i128::from(ts.timestamp()) * 1_000_000_000 + i128::from(ts.timestamp_subsec_nanos())
            }
            Self::PostgresMicros => {
                let base = NaiveDate::from_ymd_opt(2000, 1, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .unwrap_or_default();
                let offset = ts.naive_utc() - base;
                offset.num_microseconds().map_or_else(
                    // Out of the driver's range: it refuses such a ts anyway.
                    || i128::from(ts.timestamp()) * 1_000_000,
                    i128::from,
                )
            }
        }
    }
}

/// The bars of `bars` with only the newest of each key (with `ts` compared at `precision`):
/// the highest revision, the later one in the batch on a tie; in first-seen key order, each
/// with its revision. Refuses slices of different lengths.
pub(crate) fn newest_per_key<'a>(
    bars: &'a [Bar],
    revisions: &[Revision],
    precision: TsPrecision,
) -> Result<Vec<(&'a Bar, Revision)>, SinkError> {
    if bars.len() != revisions.len() {
        return Err(SinkError::Permanent(format!(
            "{} bars but {} revisions",
            bars.len(),
            revisions.len()
        )));
    }
    let mut slot: HashMap<(&str, &str, &str, i128), usize> = HashMap::with_capacity(bars.len());
    let mut out: Vec<(&Bar, Revision)> = Vec::with_capacity(bars.len());
    for (bar, &revision) in bars.iter().zip(revisions) {
        let key = (
            bar.provider.as_str(),
            bar.symbol.as_str(),
            bar.resolution.as_str(),
            precision.key(&bar.ts),
        );
        match slot.get(&key) {
            Some(&i) => {
                if revision >= out[i].1 {
                    out[i] = (bar, revision);
                }
            }
            None => {
                slot.insert(key, out.len());
                out.push((bar, revision));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(symbol: &str, ts: &str, close: &str) -> Bar {
        serde_json::from_value(serde_json::json!({
            "provider": "p", "symbol": symbol, "resolution": "1m", "ts": ts,
            "open": close, "high": close, "low": close, "close": close, "volume": "1"
        }))
        .expect("valid bar")
    }

    fn last_per_key(batch: &[Bar], precision: TsPrecision) -> Vec<&Bar> {
        let revisions = vec![Revision::ZERO; batch.len()];
        newest_per_key(batch, &revisions, precision)
            .expect("same lengths")
            .into_iter()
            .map(|(bar, _)| bar)
            .collect()
    }

    fn kept(batch: &[Bar], precision: TsPrecision) -> Vec<(String, String)> {
        last_per_key(batch, precision)
            .into_iter()
            .map(|b| (b.symbol.clone(), b.close.to_string()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(s, c)| ((*s).to_owned(), (*c).to_owned()))
            .collect()
    }

    #[test]
    fn keeps_the_highest_revision_of_each_key_and_the_later_bar_on_a_tie() {
        let cases: [(&[i64], &str); 5] = [
            // (revisions of closes "1", "2", "3" of one key, close kept)
            (&[1, 2, 3], "3"),
            (&[3, 2, 1], "1"),
            (&[1, 3, 2], "2"),
            (&[2, 2, 1], "2"),
            (&[5, 5, 5], "3"),
        ];
        for (revisions, want) in cases {
            let batch = [
                bar("A", "2024-05-01T13:01:00Z", "1"),
                bar("A", "2024-05-01T13:01:00Z", "2"),
                bar("A", "2024-05-01T13:01:00Z", "3"),
            ];
            let revisions: Vec<Revision> = revisions.iter().copied().map(Revision::new).collect();
            for precision in [TsPrecision::Nanos, TsPrecision::PostgresMicros] {
                let kept = newest_per_key(&batch, &revisions, precision).expect("same lengths");
                let closes: Vec<String> = kept.iter().map(|(b, _)| b.close.to_string()).collect();
                assert_eq!(closes, [want], "{revisions:?}");
                let top = revisions.iter().max().copied();
                assert_eq!(kept.first().map(|(_, r)| *r), top, "{revisions:?}");
            }
        }
    }

    #[test]
    fn refuses_bars_and_revisions_of_different_lengths() {
        let batch = [bar("A", "2024-05-01T13:01:00Z", "1")];
        let err = newest_per_key(&batch, &[], TsPrecision::Nanos).expect_err("mismatch");
        assert!(!err.is_retryable(), "{err}");
    }

    #[test]
    fn keeps_the_last_bar_of_each_key_in_first_seen_order() {
        let batch = [
            bar("A", "2024-05-01T13:01:00Z", "1"),
            bar("B", "2024-05-01T13:01:00Z", "2"),
            bar("A", "2024-05-01T13:01:00Z", "3"),
        ];
        for precision in [TsPrecision::Nanos, TsPrecision::PostgresMicros] {
            assert_eq!(kept(&batch, precision), pairs(&[("A", "3"), ("B", "2")]));
        }
    }

    #[test]
    fn compares_ts_at_the_precision_the_sink_stores() {
        let cases = [
            // (first ts, second ts, rows at ns, rows at PostgreSQL µs)
            (
                "2024-05-01T13:01:00.000000100Z",
                "2024-05-01T13:01:00.000000900Z",
                2,
                1,
            ),
            (
                "2024-05-01T13:01:00.000001000Z",
                "2024-05-01T13:01:00.000001999Z",
                2,
                1,
            ),
            (
                "2024-05-01T13:01:00.000001999Z",
                "2024-05-01T13:01:00.000002000Z",
                2,
                2,
            ),
            (
                "1999-12-31T23:59:59.999999500Z",
                "2000-01-01T00:00:00.000000400Z",
                2,
                1,
            ),
            ("2024-05-01T13:01:00Z", "2024-05-01T13:01:00Z", 1, 1),
        ];
        for (a, b, nanos, micros) in cases {
            let batch = [bar("A", a, "1"), bar("A", b, "2")];
            assert_eq!(
                last_per_key(&batch, TsPrecision::Nanos).len(),
                nanos,
                "{a} {b}"
            );
            let pg = last_per_key(&batch, TsPrecision::PostgresMicros);
            assert_eq!(pg.len(), micros, "{a} {b}");
            assert_eq!(pg.last().map(|b| b.close.to_string()), Some("2".to_owned()));
        }
    }

    #[test]
    fn leaves_a_batch_without_duplicates_alone() {
        let batch = [
            bar("A", "2024-05-01T13:01:00Z", "1"),
            bar("A", "2024-05-01T13:02:00Z", "2"),
        ];
        assert_eq!(last_per_key(&batch, TsPrecision::PostgresMicros).len(), 2);
    }
}
