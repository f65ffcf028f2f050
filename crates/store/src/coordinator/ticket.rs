//! Tickets: an opaque id the caller attaches to a bar (e.g. its bus entry id) that travels with
//! it through the queue, the batch and its bisection, and comes back in the
//! [`BatchOutcome`](super::BatchOutcome) that settles it.

use std::ops::Range;
use std::sync::Arc;

use core_contracts::Bar;

/// The caller's opaque id of one submitted bar.
pub type Ticket = Arc<str>;

/// One queued bar and its ticket, if any.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub(crate) bar: Bar,
    pub(crate) ticket: Option<Ticket>,
}

impl Item {
    pub(crate) fn untagged(bar: Bar) -> Self {
        Self { bar, ticket: None }
    }
}

/// A batch taken from the queue: the bars (what a sink writes) and their tickets, in
/// parallel, so that any sub-range of one is the sub-range of the other.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Batch {
    pub(crate) bars: Vec<Bar>,
    pub(crate) tickets: Vec<Option<Ticket>>,
}

impl Batch {
    pub(crate) fn from_items(items: Vec<Item>) -> Self {
        let (bars, tickets) = items.into_iter().map(|i| (i.bar, i.ticket)).unzip();
        Self { bars, tickets }
    }

    pub(crate) fn len(&self) -> usize {
        self.bars.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// The bars and tickets of `range`.
    pub(crate) fn part(&self, range: Range<usize>) -> (&[Bar], &[Option<Ticket>]) {
        (&self.bars[range.clone()], &self.tickets[range])
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
    fn a_batch_keeps_bars_and_tickets_in_step() {
        let bar: Bar = serde_json::from_str(
            r#"{"provider":"p","symbol":"S","resolution":"1m","ts":"2024-05-01T13:30:00Z",
                "open":"1","high":"2","low":"1","close":"2","volume":"10"}"#,
        )
        .expect("valid bar");
        let items = (0..3)
            .map(|i| Item {
                bar: bar.clone(),
                ticket: (i != 1).then(|| Ticket::from(format!("t{i}"))),
            })
            .collect();
        let batch = Batch::from_items(items);
        let (bars, tickets) = batch.part(1..3);
        assert_eq!(bars.len(), 2);
        assert_eq!(tickets, [None, Some(Ticket::from("t2"))]);
    }
}
