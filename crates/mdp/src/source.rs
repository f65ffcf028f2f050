//! The bars a pipeline produces: the synthetic source or a CSV replay (`--csv` over
//! `MDP_SOURCE`), limited by `--bars` (over `MDP_SOURCE_MAX_BARS`), resumable after a
//! number of bars already published, with bad CSV rows handled as `--on-bad-row` says.

use std::path::PathBuf;

use anyhow::Context;
use core_contracts::Bar;
use pipeline::config::{SourceKind, SourceSettings};
use pipeline::source::{CsvReplay, SourceError, SyntheticSource};

use crate::bad_rows::BadRowPolicy;
use crate::cli::PipelineFlags;

/// An iterator of bars (or source errors) that can cross tasks.
pub type Bars = Box<dyn Iterator<Item = Result<Bar, SourceError>> + Send>;

/// Which source, resolved from the flags and the settings.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    kind: SourceKind,
    provider: String,
    /// Bars to produce in all, when bounded.
    pub limit: Option<u64>,
    /// What happens to bad CSV rows, and how many there were.
    pub bad_rows: BadRowPolicy,
}

impl SourcePlan {
    /// The plan of `flags` over `settings` for `provider`.
    pub fn new(flags: &PipelineFlags, settings: &SourceSettings, provider: &str) -> Self {
        let kind = match &flags.csv {
            Some(path) => SourceKind::Csv { path: path.clone() },
            None => settings.kind.clone(),
        };
        Self {
            kind,
            provider: provider.to_owned(),
            limit: flags.bars.or(settings.max_bars),
            bad_rows: BadRowPolicy::new(flags.on_bad_row, flags.bad_rows_file.clone()),
        }
    }

    /// The CSV file replayed, if any.
    pub fn csv(&self) -> Option<&PathBuf> {
        match &self.kind {
            SourceKind::Csv { path } => Some(path),
            SourceKind::Synthetic { .. } => None,
        }
    }

    /// Whether the source ends by itself (a CSV file, or a bar limit).
    pub fn is_finite(&self) -> bool {
        self.limit.is_some() || self.csv().is_some()
    }

    /// Opens the source and skips the first `skip` bars (already published).
    pub fn open(&self, skip: u64) -> anyhow::Result<Bars> {
        let bars: Bars = match &self.kind {
            SourceKind::Synthetic {
                seed,
                symbols,
                resolution,
            } => Box::new(
                SyntheticSource::new(&self.provider, symbols.clone(), resolution, *seed)
                    .context("invalid synthetic source settings")?
                    .map(Ok),
            ),
            SourceKind::Csv { path } => Box::new(
                self.bad_rows.apply(
                    CsvReplay::open(path)
                        .with_context(|| format!("cannot replay {}", path.display()))?,
                ),
            ),
        };
        let skip = usize::try_from(skip).unwrap_or(usize::MAX);
        Ok(match self.limit {
            Some(limit) => {
                let limit = usize::try_from(limit).unwrap_or(usize::MAX);
                Box::new(bars.take(limit).skip(skip))
            }
            None => Box::new(bars.skip(skip)),
        })
    }
}
