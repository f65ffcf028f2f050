//! What the groups of a stream still need, as plain functions of their positions: the trim
//! point of a data stream ([`trim_point`]) and a group's [`Backlog`].
//!
//! A group needs its oldest pending entry, or, when nothing is pending, the first entry
//! after its last-delivered id. Entries below the minimum over groups may go; a stream with
//! no group keeps everything.

use std::fmt;

/// How far a group is behind on a stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Entries retained in the stream and not yet delivered to the group.
    pub undelivered: u64,
    /// Entries delivered to a consumer of the group and not yet acknowledged.
    pub pending: u64,
}

impl Backlog {
    /// Entries the group has not acknowledged: undelivered and pending.
    ///
    /// ```
    /// let b = pulse::Backlog { undelivered: 3, pending: 2 };
    /// assert_eq!(b.total(), 5);
    /// ```
    pub fn total(&self) -> u64 {
        self.undelivered.saturating_add(self.pending)
    }
}

/// A stream entry id, `{ms}-{seq}`, ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryId {
    /// Milliseconds part (the in-memory backend's sequence number).
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl EntryId {
    /// Parses `ms-seq` (or a bare `ms`, sequence 0); `None` when malformed.
    pub fn parse(id: &str) -> Option<Self> {
        let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
        Some(Self {
            ms: ms.parse().ok()?,
            seq: seq.parse().ok()?,
        })
    }

    /// The smallest id greater than this one.
    pub fn next(self) -> Self {
        match self.seq.checked_add(1) {
            Some(seq) => Self { ms: self.ms, seq },
            None => Self {
                ms: self.ms.saturating_add(1),
                seq: 0,
            },
        }
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// Where one group stands on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupPosition {
    /// The last id delivered to the group (`0-0` before the first delivery).
    pub last_delivered: EntryId,
    /// The group's oldest pending entry, if any.
    pub oldest_pending: Option<EntryId>,
}

impl GroupPosition {
    /// The oldest entry this group still needs.
    pub fn oldest_needed(&self) -> EntryId {
        self.oldest_pending
            .unwrap_or_else(|| self.last_delivered.next())
    }
}

/// The id below which every entry may be trimmed (`XTRIM MINID`), or `None` when the stream
/// has no group (nothing is trimmed).
pub fn trim_point(groups: &[GroupPosition]) -> Option<EntryId> {
    groups.iter().map(GroupPosition::oldest_needed).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(ms: u64, seq: u64) -> EntryId {
        EntryId { ms, seq }
    }

    fn at(last: EntryId, pending: Option<EntryId>) -> GroupPosition {
        GroupPosition {
            last_delivered: last,
            oldest_pending: pending,
        }
    }

    #[test]
    fn the_trim_point_is_the_oldest_entry_any_group_needs() {
        let table: [(&[GroupPosition], Option<EntryId>); 6] = [
            (&[], None),
            (&[at(id(0, 0), None)], Some(id(0, 1))),
            (&[at(id(5, 0), None)], Some(id(5, 1))),
            (&[at(id(9, 0), Some(id(3, 0)))], Some(id(3, 0))),
            (
                &[at(id(9, 0), Some(id(7, 0))), at(id(4, 2), None)],
                Some(id(4, 3)),
            ),
            (
                &[at(id(9, 0), Some(id(2, 5))), at(id(4, 2), None)],
                Some(id(2, 5)),
            ),
        ];
        for (groups, expected) in table {
            assert_eq!(trim_point(groups), expected, "{groups:?}");
        }
    }

    #[test]
    fn ids_parse_print_and_step() {
        assert_eq!(EntryId::parse("1700-3"), Some(id(1700, 3)));
        assert_eq!(EntryId::parse("12"), Some(id(12, 0)));
        assert_eq!(EntryId::parse("x-1"), None);
        assert_eq!(id(1, 2).to_string(), "1-2");
        assert_eq!(id(1, u64::MAX).next(), id(2, 0));
        assert!(id(1, 9) < id(2, 0));
    }
}
