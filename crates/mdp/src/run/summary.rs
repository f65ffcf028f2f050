//! The summary `mdp run` prints at the end, as text or as one JSON object.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::story::{NEXT_STEPS, what_happened, wrap};

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Why the run ended: `bars`, `duration`, `end_of_source`, a signal name or `error` (the
    /// text summary says it in words).
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
    /// Times the store's level turned soft from ok.
    pub soft_episodes: u64,
    /// Times the store fell behind: its level left ok (for soft, or straight for hard).
    pub behind_episodes: u64,
    /// Seconds the pipeline ran slowed down (a rate scale between 0 and 1).
    pub seconds_slowed: f64,
    /// Seconds the pipeline was paused (rate scale 0).
    pub seconds_paused: f64,
    /// Rate adjustments applied by the pipeline.
    pub rate_adjustments: u64,
    /// Seconds spent at each rate scale (`"1.00"`, `"0.50"`, `"0.00"`).
    pub seconds_at_scale: BTreeMap<String, f64>,
    /// The sink.
    pub sink: String,
    /// The dead-letter file.
    pub dead_letter_file: String,
    /// Bad CSV rows left out (`--on-bad-row skip`).
    pub bad_rows_skipped: u64,
    /// Bad CSV rows kept in the bad-rows file (`--on-bad-row dead-letter`).
    pub bad_rows_dead_lettered: u64,
    /// The bad-rows file.
    pub bad_rows_file: String,
    /// The speed the demo held the sink to, in bars per second (`null` when the run was not
    /// the demo: a rate, a sink rate or a CSV file was given).
    pub demo_sink_rate: Option<f64>,
    /// Why the run failed, if it did (`null` otherwise): the bars before the failure are
    /// written and counted above all the same.
    pub error: Option<String>,
}

/// `1 bar`, `2 bars`: `n` and the noun in the number it takes.
pub(super) fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Why a run ended, in words, from its code (`bars`, `duration`, `end_of_source`, `error`
/// or a signal name).
pub(super) fn ended_by_words(code: &str) -> String {
    match code {
        "bars" => "reaching the --bars limit".to_owned(),
        "duration" => "its duration running out".to_owned(),
        "end_of_source" => "the end of the source".to_owned(),
        "error" => "an error".to_owned(),
        signal => signal.to_owned(),
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "mdp run: {:.1} s, ended by {}",
            self.seconds,
            ended_by_words(&self.ended_by)
        )?;
        for line in wrap(&what_happened(self)) {
            writeln!(f, "  {line}")?;
        }
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
        if self.bad_rows_skipped > 0 {
            writeln!(f, "  bad rows skipped   {:>12}", self.bad_rows_skipped)?;
        }
        if self.bad_rows_dead_lettered > 0 {
            writeln!(
                f,
                "  bad rows kept      {:>12}  (in {})",
                self.bad_rows_dead_lettered, self.bad_rows_file
            )?;
        }
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
            "  time at rate scale {}  ({})",
            scale_times(&self.seconds_at_scale, SHOWN_SCALES, 2),
            plural(self.rate_adjustments, "adjustment", "adjustments")
        )?;
        if self.dead_lettered > 0 {
            writeln!(
                f,
                "  replay the dead letters with: mdp replay-dead-letters {}",
                self.dead_letter_file
            )?;
        }
        if let Some(error) = &self.error {
            writeln!(f, "  stopped by         {error}")?;
        }
        if self.demo_sink_rate.is_some() {
            for line in wrap(NEXT_STEPS) {
                writeln!(f, "  {line}")?;
            }
        }
        Ok(())
    }
}

/// Scales shown in the text summary at most; the JSON keeps them all.
const SHOWN_SCALES: usize = 4;

/// `1.00: 0.49 s, 0.50: 2.14 s`: the `shown` scales held longest, highest scale first, the
/// seconds with `decimals` digits, and how many more there were (adaptive mode visits many).
pub(super) fn scale_times(
    seconds_at_scale: &BTreeMap<String, f64>,
    shown: usize,
    decimals: usize,
) -> String {
    let mut longest: Vec<(&String, &f64)> = seconds_at_scale.iter().collect();
    longest.sort_by(|a, b| b.1.total_cmp(a.1));
    let more = longest.len().saturating_sub(shown);
    longest.truncate(shown);
    longest.sort_by(|a, b| b.0.cmp(a.0));
    let mut parts: Vec<String> = longest
        .iter()
        .map(|(scale, secs)| format!("{scale}: {secs:.decimals$} s"))
        .collect();
    if more > 0 {
        parts.push(format!("{more} more"));
    }
    parts.join(", ")
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
            scale_times(&times, SHOWN_SCALES, 2),
            "1.00: 0.50 s, 0.50: 2.00 s, 0.00: 7.00 s"
        );
        let many: BTreeMap<String, f64> = (1..=7)
            .map(|i| (format!("0.{i:02}"), f64::from(i)))
            .collect();
        assert_eq!(
            scale_times(&many, SHOWN_SCALES, 2),
            "0.07: 7.00 s, 0.06: 6.00 s, 0.05: 5.00 s, 0.04: 4.00 s, 3 more"
        );
    }
}

#[cfg(test)]
mod words {
    use super::*;

    #[test]
    fn counts_take_their_plural_and_codes_become_words() {
        assert_eq!(plural(1, "adjustment", "adjustments"), "1 adjustment");
        assert_eq!(plural(0, "adjustment", "adjustments"), "0 adjustments");
        assert_eq!(plural(7, "adjustment", "adjustments"), "7 adjustments");
        assert_eq!(ended_by_words("end_of_source"), "the end of the source");
        assert_eq!(ended_by_words("SIGINT"), "SIGINT");
        let summary = Summary {
            ended_by: "end_of_source".to_owned(),
            rate_adjustments: 1,
            error: Some("line 3: ts: premature end of input".to_owned()),
            ..Summary::default()
        };
        let text = summary.to_string();
        assert!(
            text.starts_with("mdp run: 0.0 s, ended by the end of the source\n"),
            "{text}"
        );
        assert!(text.contains("(1 adjustment)"), "{text}");
        assert!(text.contains("stopped by         line 3: ts:"), "{text}");
        assert!(!text.contains("end_of_source"), "{text}");
    }
}
