//! Helpers of the coordinator fault tests: an outcome recorder keeping tickets, tagged bars,
//! the default config and a switch that breaks the dead-letter file.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use core_contracts::Bar;
use store::coordinator::{BatchOutcome, CoordinatorConfig, Ticket};
use store::sink::Revision;

/// One reported outcome: dead-lettered or not, the error type, the tickets.
type Seen = (bool, String, Vec<Option<Ticket>>);

/// Every reported outcome, for tests on tickets.
#[derive(Default)]
pub(crate) struct Outcomes(Mutex<Vec<Seen>>);

impl Outcomes {
    /// The callback to give to `on_outcome`.
    pub(crate) fn callback(self: &Arc<Self>) -> impl Fn(BatchOutcome<'_>) + Send + Sync + 'static {
        let this = Arc::clone(self);
        move |outcome| {
            assert_eq!(outcome.bars().len(), outcome.tickets().len());
            let kind = match outcome {
                BatchOutcome::Written { .. } => String::new(),
                BatchOutcome::DeadLettered { error_type, .. } => error_type.to_owned(),
            };
            this.0.lock().unwrap_or_else(PoisonError::into_inner).push((
                outcome.is_dead_lettered(),
                kind,
                outcome.tickets().to_vec(),
            ));
        }
    }

    /// The tickets reported written, or dead-lettered, sorted.
    pub(crate) fn tickets(&self, dead_lettered: bool) -> Vec<Option<Ticket>> {
        let mut out: Vec<_> = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(dead, _, _)| *dead == dead_lettered)
            .flat_map(|(_, _, t)| t.clone())
            .collect();
        out.sort();
        out
    }

    /// The error types of the dead-lettered outcomes.
    pub(crate) fn kinds(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(dead, _, _)| *dead)
            .map(|(_, kind, _)| kind.clone())
            .collect()
    }
}

/// `bars` with tickets `entry-0000`, `entry-0001`, ... and revisions 1, 2, ...
pub(crate) fn tagged(bars: Vec<Bar>) -> Vec<(Bar, Ticket, Revision)> {
    bars.into_iter()
        .enumerate()
        .map(|(i, bar)| {
            let revision = Revision::new(i64::try_from(i).expect("small index") + 1);
            (bar, Ticket::from(format!("entry-{i:04}")), revision)
        })
        .collect()
}

/// The ticket `tagged` gives the `i`-th bar.
pub(crate) fn ticket(i: usize) -> Option<Ticket> {
    Some(Ticket::from(format!("entry-{i:04}")))
}

/// The default coordinator config, dead-lettering into `dir`.
pub(crate) fn default_config(dir: &Path) -> CoordinatorConfig {
    CoordinatorConfig::new("test-coord", dir.join("dead-letters.ndjson"))
}

/// Makes appends to `sub/dead-letters.ndjson` fail (a file where the directory was),
/// or work again.
pub(crate) fn break_dead_letters(sub: &Path, broken: bool) {
    if broken {
        std::fs::remove_dir_all(sub).expect("removed");
        std::fs::write(sub, b"in the way").expect("written");
    } else {
        std::fs::remove_file(sub).expect("removed");
    }
}
