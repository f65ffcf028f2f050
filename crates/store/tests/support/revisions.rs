//! One suite of revision cases for every sink: writes of one key's revisions in some order,
//! and the close and revision the row must end with. Each case has a symbol of its own, so
//! all run on one table. Include beside `support/bars.rs` as `mod bars`.

#![allow(dead_code)]

use core_contracts::Bar;
use store::sink::{Revision, Sink};

/// One key written in `batches` (each `(close, revision)` a bar), ending as `want`.
pub(crate) struct Case {
    /// What the case shows.
    pub name: &'static str,
    /// The writes, in order; each one batch.
    pub batches: &'static [&'static [(&'static str, i64)]],
    /// The `(close, revision)` the row ends with.
    pub want: (&'static str, i64),
}

/// Every case.
pub(crate) const CASES: &[Case] = &[
    Case {
        name: "revision 2 written before revision 1 stays",
        batches: &[&[("102.00", 2)], &[("101.00", 1)]],
        want: ("102.00", 2),
    },
    Case {
        name: "revision 2 written after revision 1 replaces it",
        batches: &[&[("101.00", 1)], &[("102.00", 2)]],
        want: ("102.00", 2),
    },
    Case {
        name: "an equal revision rewrites",
        batches: &[&[("101.00", 5)], &[("103.00", 5)]],
        want: ("103.00", 5),
    },
    Case {
        name: "in a batch the highest revision wins",
        batches: &[&[("102.00", 2), ("101.00", 1)]],
        want: ("102.00", 2),
    },
    Case {
        name: "in a batch the later bar wins a tie",
        batches: &[&[("101.00", 3), ("102.00", 3)]],
        want: ("102.00", 3),
    },
    Case {
        name: "an older batch after a deduplicated one changes nothing",
        batches: &[
            &[("104.00", 4), ("103.00", 3)],
            &[("101.00", 1), ("102.00", 2)],
        ],
        want: ("104.00", 4),
    },
];

/// The symbol of case `i`.
pub(crate) fn symbol(i: usize) -> String {
    format!("REV{i}")
}

/// Writes every case to `sink`; the batches of case `i` are bars of [`symbol`]`(i)` at one ts.
pub(crate) async fn write_all(sink: &dyn Sink) {
    for (i, case) in CASES.iter().enumerate() {
        let base = crate::bars::bars(&symbol(i), 1).remove(0);
        for batch in case.batches {
            let bars: Vec<Bar> = batch
                .iter()
                .map(|(close, _)| crate::bars::with_close(&base, close))
                .collect();
            let revisions: Vec<Revision> = batch.iter().map(|(_, r)| Revision::new(*r)).collect();
            sink.write(&bars, &revisions)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        }
    }
}

/// Checks `rows`, `(symbol, close, revision)` of every row, against the cases.
pub(crate) fn check(rows: &[(String, String, i64)]) {
    assert_eq!(rows.len(), CASES.len(), "one row per case: {rows:?}");
    for (i, case) in CASES.iter().enumerate() {
        let row = rows.iter().find(|(s, _, _)| *s == symbol(i));
        let got = row.map(|(_, close, revision)| (close.as_str(), *revision));
        assert_eq!(got, Some(case.want), "{}", case.name);
    }
}
