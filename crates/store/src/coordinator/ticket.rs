//! Tickets: an opaque id the caller attaches to a bar (e.g. its bus entry id) that travels with
//! it through the queue, the batch and its bisection, and comes back in the
//! [`BatchOutcome`](super::BatchOutcome) that settles it. The bar's [`Revision`] travels the
//! same way, to the sink.

use std::ops::Range;
use std::sync::Arc;

use core_contracts::Bar;

use crate::sink::Revision;

/// The caller's opaque id of one submitted bar.
pub type Ticket = Arc<str>;

/// One queued bar, its ticket if any, and its revision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub(crate) bar: Bar,
    pub(crate) ticket: Option<Ticket>,
    pub(crate) revision: Revision,
}

impl Item {
    pub(crate) fn untagged(bar: Bar, revision: Revision) -> Self {
        Self {
            bar,
            ticket: None,
            revision,
        }
    }
}

/// A sub-range of a [`Batch`]: its bars, tickets and revisions.
pub(crate) type Part<'a> = (&'a [Bar], &'a [Option<Ticket>], &'a [Revision]);

/// A batch taken from the queue: the bars (what a sink writes), their tickets and their
/// revisions, in parallel, so that any sub-range of one is the sub-range of the others.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Batch {
    pub(crate) bars: Vec<Bar>,
    pub(crate) tickets: Vec<Option<Ticket>>,
    pub(crate) revisions: Vec<Revision>,
}

impl Batch {
    pub(crate) fn from_items(items: Vec<Item>) -> Self {
        let mut batch = Self {
            bars: Vec::with_capacity(items.len()),
            tickets: Vec::with_capacity(items.len()),
            revisions: Vec::with_capacity(items.len()),
        };
        for item in items {
            batch.bars.push(item.bar);
            batch.tickets.push(item.ticket);
            batch.revisions.push(item.revision);
        }
        batch
    }

    /// Appends the bars, tickets and revisions of `part`.
    pub(crate) fn extend((bars, tickets, revisions): Part<'_>, into: &mut Self) {
        into.bars.extend_from_slice(bars);
        into.tickets.extend_from_slice(tickets);
        into.revisions.extend_from_slice(revisions);
    }

    pub(crate) fn len(&self) -> usize {
        self.bars.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// The bars, tickets and revisions of `range`.
    pub(crate) fn part(&self, range: Range<usize>) -> Part<'_> {
        (
            &self.bars[range.clone()],
            &self.tickets[range.clone()],
            &self.revisions[range],
        )
    }
}

/// The two halves of `range` (the first one shorter when the length is odd), `None` for a
/// single item (or an empty range): what a permanent failure bisects into.
pub(crate) fn halves(range: &Range<usize>) -> Option<(Range<usize>, Range<usize>)> {
    (range.len() > 1).then(|| {
        let mid = range.start + range.len() / 2;
        (range.start..mid, mid..range.end)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_split_a_range_and_leave_a_single_item_alone() {
        let cases = [
            (0..2, Some((0..1, 1..2))),
            (0..5, Some((0..2, 2..5))),
            (10..14, Some((10..12, 12..14))),
            (3..4, None),
            (3..3, None),
        ];
        for (range, want) in cases {
            assert_eq!(halves(&range), want, "{range:?}");
        }
    }

    #[test]
    fn a_batch_keeps_bars_tickets_and_revisions_in_step() {
        let bar: Bar = serde_json::from_str(
            r#"{"provider":"p","symbol":"S","resolution":"1m","ts":"2024-05-01T13:30:00Z",
                "open":"1","high":"2","low":"1","close":"2","volume":"10"}"#,
        )
        .expect("valid bar");
        let items = (0..3)
            .map(|i| Item {
                bar: bar.clone(),
                ticket: (i != 1).then(|| Ticket::from(format!("t{i}"))),
                revision: Revision::new(i64::from(i) * 10),
            })
            .collect();
        let batch = Batch::from_items(items);
        let (bars, tickets, revisions) = batch.part(1..3);
        assert_eq!(bars.len(), 2);
        assert_eq!(tickets, [None, Some(Ticket::from("t2"))]);
        assert_eq!(revisions, [Revision::new(10), Revision::new(20)]);
        let mut joined = Batch::default();
        Batch::extend(batch.part(2..3), &mut joined);
        Batch::extend(batch.part(0..1), &mut joined);
        assert_eq!(joined.revisions, [Revision::new(20), Revision::new(0)]);
        assert_eq!(
            joined.tickets,
            [Some(Ticket::from("t2")), Some(Ticket::from("t0"))]
        );
    }
}
