//! Keeps the last bar of each key in a batch, so one upsert statement never touches a row
//! twice (PostgreSQL refuses that) and every backend agrees on which duplicate wins.

use std::collections::HashMap;

use core_contracts::Bar;

/// The bars of `batch` with only the last occurrence of each key, in first-seen key order.
pub(crate) fn last_per_key(batch: &[Bar]) -> Vec<&Bar> {
    let mut slot: HashMap<(&str, &str, &str, i64, u32), usize> =
        HashMap::with_capacity(batch.len());
    let mut out: Vec<&Bar> = Vec::with_capacity(batch.len());
    for bar in batch {
        let key = (
            bar.provider.as_str(),
            bar.symbol.as_str(),
            bar.resolution.as_str(),
            bar.ts.timestamp(),
            bar.ts.timestamp_subsec_nanos(),
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

    fn bar(symbol: &str, minute: u32, close: &str) -> Bar {
        serde_json::from_value(serde_json::json!({
            "provider": "p", "symbol": symbol, "resolution": "1m",
            "ts": format!("2024-05-01T13:{minute:02}:00Z"),
            "open": close, "high": close, "low": close, "close": close, "volume": "1"
        }))
        .expect("valid bar")
    }

    #[test]
    fn keeps_the_last_bar_of_each_key_in_first_seen_order() {
        let batch = [bar("A", 1, "1"), bar("B", 1, "2"), bar("A", 1, "3")];
        let kept: Vec<_> = last_per_key(&batch)
            .into_iter()
            .map(|b| (b.symbol.as_str(), b.close.to_string()))
            .collect();
        assert_eq!(kept, [("A", "3".to_owned()), ("B", "2".to_owned())]);
    }

    #[test]
    fn leaves_a_batch_without_duplicates_alone() {
        let batch = [bar("A", 1, "1"), bar("A", 2, "2")];
        assert_eq!(last_per_key(&batch).len(), 2);
    }
}
