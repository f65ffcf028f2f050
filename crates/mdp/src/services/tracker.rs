//! `InFlight`: the bus entries a store holds, by bar key, from delivery until the bar is
//! written or dead-lettered. Entries are acknowledged only then, so a store killed mid-run
//! leaves every unrecorded bar pending for another store of the group to reclaim.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use core_contracts::{Bar, BarKey};

/// Entry ids in hand, by the key of their bar.
#[derive(Debug, Default)]
pub struct InFlight {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_key: HashMap<BarKey, Vec<String>>,
    ids: HashSet<String>,
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds entry `id` carrying `bar`; false when it is already held (a redelivery of an
    /// entry still in hand).
    pub fn hold(&self, bar: &Bar, id: &str) -> bool {
        let mut inner = self.lock();
        if !inner.ids.insert(id.to_owned()) {
            return false;
        }
        inner
            .by_key
            .entry(bar.key())
            .or_default()
            .push(id.to_owned());
        true
    }

    /// Lets go of entry `id` of `bar` without acknowledging it.
    pub fn release(&self, bar: &Bar, id: &str) {
        let mut inner = self.lock();
        inner.ids.remove(id);
        let key = bar.key();
        if let Some(ids) = inner.by_key.get_mut(&key) {
            ids.retain(|i| i != id);
            if ids.is_empty() {
                inner.by_key.remove(&key);
            }
        }
    }

    /// The entries whose bars are in `recorded` (written, or kept in the dead-letter file),
    /// no longer held: they may be acknowledged.
    pub fn settle(&self, recorded: &[Bar]) -> Vec<String> {
        let mut inner = self.lock();
        let mut done = Vec::new();
        for bar in recorded {
            if let Some(ids) = inner.by_key.remove(&bar.key()) {
                done.extend(ids);
            }
        }
        for id in &done {
            inner.ids.remove(id);
        }
        done
    }

    /// Every entry held.
    pub fn ids(&self) -> Vec<String> {
        self.lock().ids.iter().cloned().collect()
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.lock().ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn bar(minute: u32) -> Bar {
        let mut bar: Bar = serde_json::from_value(serde_json::json!({
            "provider": "p", "symbol": "S", "resolution": "1m",
            "ts": "2024-01-02T14:30:00Z", "open": "1", "high": "2", "low": "1",
            "close": "2", "volume": "10"
        }))
        .expect("valid bar");
        bar.ts = Utc
            .with_ymd_and_hms(2024, 1, 2, 14, minute, 0)
            .single()
            .expect("valid time");
        bar
    }

    #[test]
    fn entries_are_released_for_ack_once_their_bar_is_recorded() {
        let held = InFlight::default();
        assert!(held.hold(&bar(1), "1-0"));
        assert!(!held.hold(&bar(1), "1-0"), "the same entry twice");
        assert!(
            held.hold(&bar(1), "2-0"),
            "a duplicate bar in another entry"
        );
        assert!(held.hold(&bar(2), "3-0"));
        let mut acked = held.settle(&[bar(1)]);
        acked.sort();
        assert_eq!(acked, ["1-0", "2-0"]);
        assert_eq!(held.len(), 1);
        held.release(&bar(2), "3-0");
        assert_eq!(held.len(), 0);
        assert!(held.settle(&[bar(2)]).is_empty());
    }
}
