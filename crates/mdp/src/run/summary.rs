//! The summary `mdp run` prints at the end, as text or as one JSON object.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Why the run ended: `bars`, `duration`, `end_of_source`, a signal name or `error`.
    pub ended_by: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Bars the pipeline handed to the store (accepted by its coordinator).
    pub offered: u64,
    /// Bars written to the sink.
    pub written: u64,
    /// Bars in the dead-letter file (replay with `mdp replay-dead-letters`).
    pub dead_lettered: u64,
    /// Bars dropped or lost (must be 0).
    pub dropped: u64,
    /// Bars written per second over the run.
    pub bars_per_sec: f64,
    /// Queue capacity.
    pub capacity: usize,
    /// Peak queue depth seen.
    pub peak_queue_depth: usize,
    /// The store's level when the run ended.
    pub final_level: String,
    /// Feedback events the store emitted, by level.
    pub feedback_events: BTreeMap<String, u64>,
    /// Rate adjustments applied by the pipeline.
    pub rate_adjustments: u64,
    /// Seconds spent at each rate scale (`"1.00"`, `"0.50"`, `"0.00"`).
    pub seconds_at_scale: BTreeMap<String, f64>,
    /// The sink.
    pub sink: String,
    /// The dead-letter file.
    pub dead_letter_file: String,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "mdp run: {:.1} s, ended by {}",
            self.seconds, self.ended_by
        )?;
        writeln!(f, "  bars offered       {:>12}", self.offered)?;
        writeln!(
            f,
            "  bars written       {:>12}  ({:.0} bars/s into {})",
            self.written, self.bars_per_sec, self.sink
        )?;
        writeln!(f, "  bars dead-lettered {:>12}", self.dead_lettered)?;
        writeln!(f, "  bars dropped       {:>12}", self.dropped)?;
        writeln!(
            f,
            "  queue peak         {:>12}  (capacity {})",
            self.peak_queue_depth, self.capacity
        )?;
        let levels: Vec<String> = ["ok", "soft", "hard"]
            .iter()
            .map(|l| format!("{l} {}", self.feedback_events.get(*l).copied().unwrap_or(0)))
            .collect();
        writeln!(
            f,
            "  feedback events    {}  (final level {})",
            levels.join(", "),
            self.final_level
        )?;
        let mut scales: Vec<(&String, &f64)> = self.seconds_at_scale.iter().collect();
        scales.sort_by(|a, b| b.0.cmp(a.0));
        let scales: Vec<String> = scales
            .iter()
            .map(|(scale, secs)| format!("{scale}: {secs:.2} s"))
            .collect();
        writeln!(
            f,
            "  time at rate scale {}  ({} adjustments)",
            scales.join(", "),
            self.rate_adjustments
        )?;
        if self.dead_lettered > 0 {
            writeln!(
                f,
                "  replay the dead letters with: mdp replay-dead-letters {}",
                self.dead_letter_file
            )?;
        }
        Ok(())
    }
}
