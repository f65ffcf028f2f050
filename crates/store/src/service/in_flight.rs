//! `InFlight`: the bus entries a store holds, by entry id, from delivery until the bar each
//! carries is written or dead-lettered. An entry is acknowledged only then, and only that
//! entry: a later revision of the same bar in another entry stays held until it is itself
//! recorded. A store killed mid-run leaves every unrecorded entry pending for another store
//! of the group to reclaim.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Entry ids in hand.
#[derive(Debug, Default)]
pub(super) struct InFlight {
    ids: Mutex<HashSet<String>>,
}

impl InFlight {
    fn lock(&self) -> MutexGuard<'_, HashSet<String>> {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds entry `id`; false when it is already held (a redelivery of an entry still in
    /// hand).
    pub(super) fn hold(&self, id: &str) -> bool {
        self.lock().insert(id.to_owned())
    }

    /// Lets go of entry `id` without acknowledging it.
    pub(super) fn release(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Of `recorded` (entries whose bars were written, or kept in the dead-letter file), the
    /// ones held, now no longer held: they may be acknowledged.
    pub(super) fn settle<'a>(&self, recorded: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let mut ids = self.lock();
        recorded
            .into_iter()
            .filter(|id| ids.remove(*id))
            .map(str::to_owned)
            .collect()
    }

    /// Every entry held.
    pub(super) fn ids(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    /// How many entries are held.
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_entries_recorded_are_released_for_ack() {
        let held = InFlight::default();
        assert!(held.hold("1-0"));
        assert!(!held.hold("1-0"), "the same entry twice");
        assert!(
            held.hold("2-0"),
            "a revision of the same bar in another entry"
        );
        assert!(held.hold("3-0"));
        assert_eq!(held.settle(["1-0"]), ["1-0"], "its revision stays held");
        assert_eq!(held.len(), 2);
        assert!(held.settle(["1-0"]).is_empty(), "settled once");
        held.release("3-0");
        assert_eq!(held.ids(), ["2-0"]);
    }
}
