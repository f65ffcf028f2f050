//! Keeps the last bar of each key in a batch, so one upsert statement never touches a row
//! twice (PostgreSQL refuses that) and every backend agrees on which duplicate wins. Keys
//! compare `ts` at the precision the sink stores: two bars a few nanoseconds apart are one row
//! in PostgreSQL (microseconds) but two in SQLite (nanosecond text).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use core_contracts::Bar;

/// The resolution at which a sink stores `ts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TsPrecision {
    /// Nanoseconds (SQLite's RFC 3339 text with nine digits).
    Nanos,
    /// Microseconds as PostgreSQL's `TIMESTAMPTZ` keeps them: the driver truncates the
    /// offset from 2000-01-01 toward zero.
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

/// The bars of `batch` with only the last occurrence of each key (with `ts` compared at
/// `precision`), in first-seen key order.
pub(crate) fn last_per_key(batch: &[Bar], precision: TsPrecision) -> Vec<&Bar> {
    let mut slot: HashMap<(&str, &str, &str, i128), usize> = HashMap::with_capacity(batch.len());
    let mut out: Vec<&Bar> = Vec::with_capacity(batch.len());
    for bar in batch {
        let key = (
            bar.provider.as_str(),
            bar.symbol.as_str(),
            bar.resolution.as_str(),
            precision.key(&bar.ts),
        );
        match slot.get(&key) {
            Some(&i) => out[i] = bar,
            None => {
                slot.insert(key, out.len());
                out.push(bar);
            }
        }
    }
    out
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
