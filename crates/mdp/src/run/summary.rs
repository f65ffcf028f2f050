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
    /// Seconds the pipeline ran (until the source ended, the duration passed or a signal).
    pub source_seconds: f64,
    /// Bars written per second while the pipeline ran (before the drain at the end).
    pub bars_per_sec_while_running: f64,
    /// Queue capacity.
    pub capacity: usize,
    /// Peak queue depth seen.
    pub peak_queue_depth: usize,
    /// The queue depth 99 % of the samples (every 50 ms) lie at or below.
    pub queue_depth_p99: usize,
    /// The store's level when the run ended.
    pub final_level: String,
    /// Feedback events the store emitted, by level.
    pub feedback_events: BTreeMap<String, u64>,
    /// Times the store's level turned hard.
    pub hard_episodes: u64,
    /// Of those, the ones after the first second (the queue fills before feedback arrives).
    pub hard_episodes_after_start: u64,
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
        writeln!(
            f,
            "  while it ran       {:>12.0}  bars/s written in the first {:.1} s",
            self.bars_per_sec_while_running, self.source_seconds
        )?;
        writeln!(f, "  bars dead-lettered {:>12}", self.dead_lettered)?;
        writeln!(f, "  bars dropped       {:>12}", self.dropped)?;
        writeln!(
            f,
            "  queue peak         {:>12}  (p99 {}, capacity {})",
            self.peak_queue_depth, self.queue_depth_p99, self.capacity
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
        writeln!(
            f,
            "  hard episodes      {:>12}  ({} after the first second)",
            self.hard_episodes, self.hard_episodes_after_start
        )?;
        writeln!(
            f,
            "  time at rate scale {}  ({} adjustments)",
            scale_times(&self.seconds_at_scale),
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

/// Scales shown in the text summary at most; the JSON keeps them all.
const SHOWN_SCALES: usize = 4;

/// `1.00: 0.49 s, 0.50: 2.14 s`: the scales the run spent most time at, highest scale
/// first, and how many more there were (adaptive mode visits many).
fn scale_times(seconds_at_scale: &BTreeMap<String, f64>) -> String {
    let mut longest: Vec<(&String, &f64)> = seconds_at_scale.iter().collect();
    longest.sort_by(|a, b| b.1.total_cmp(a.1));
    let more = longest.len().saturating_sub(SHOWN_SCALES);
    longest.truncate(SHOWN_SCALES);
    longest.sort_by(|a, b| b.0.cmp(a.0));
    let mut shown: Vec<String> = longest
        .iter()
        .map(|(scale, secs)| format!("{scale}: {secs:.2} s"))
        .collect();
    if more > 0 {
        shown.push(format!("{more} more"));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_shows_the_four_scales_held_longest() {
        let times: BTreeMap<String, f64> = [("1.00", 0.5), ("0.50", 2.0), ("0.00", 7.0)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(
            scale_times(&times),
            "1.00: 0.50 s, 0.50: 2.00 s, 0.00: 7.00 s"
        );
        let many: BTreeMap<String, f64> = (1..=7)
            .map(|i| (format!("0.{i:02}"), f64::from(i)))
            .collect();
        assert_eq!(
            scale_times(&many),
            "0.07: 7.00 s, 0.06: 6.00 s, 0.05: 5.00 s, 0.04: 4.00 s, 3 more"
        );
    }
}
