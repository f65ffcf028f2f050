//! [`TrimSchedule`]: when a publisher trims a data stream it publishes to — at most once per
//! [`TRIM_EVERY`] per stream, never on every publish. Time is the caller's monotonic `now`.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Shortest time between two trims of one stream by one publisher.
pub(crate) const TRIM_EVERY: Duration = Duration::from_secs(1);

/// Whether a trim last made at `last` is due again at `now`.
fn is_due(last: Option<Duration>, now: Duration, every: Duration) -> bool {
    last.is_none_or(|last| now.saturating_sub(last) >= every)
}

/// The last trim time of each stream key; shared by clones of a `Pulse`.
#[derive(Debug, Default)]
pub(crate) struct TrimSchedule {
    last: Mutex<HashMap<String, Duration>>,
}

impl TrimSchedule {
    /// Whether `key` is due for a trim at `now`; if so, records `now` as its last trim.
    pub(crate) fn claim(&self, key: &str, now: Duration) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if !is_due(last.get(key).copied(), now, TRIM_EVERY) {
            return false;
        }
        last.insert(key.to_owned(), now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trim_is_due_first_time_and_then_once_per_interval() {
        let s = Duration::from_millis;
        let table = [
            (None, s(0), true),
            (Some(s(0)), s(999), false),
            (Some(s(0)), s(1000), true),
            (Some(s(5000)), s(4000), false),
        ];
        for (last, now, due) in table {
            assert_eq!(is_due(last, now, TRIM_EVERY), due, "{last:?} {now:?}");
        }
    }

    #[test]
    fn claiming_records_the_trim_per_stream() {
        let schedule = TrimSchedule::default();
        let at = Duration::from_millis;
        assert!(schedule.claim("a", at(10)));
        assert!(!schedule.claim("a", at(500)));
        assert!(schedule.claim("b", at(500)));
        assert!(schedule.claim("a", at(1010)));
    }
}
