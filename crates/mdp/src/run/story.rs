//! What a run did, in words: how often the store fell behind, how long the pipeline slowed
//! down and paused, where the bars are and whether anything was lost, and what to try next.

use std::collections::BTreeMap;

use super::Summary;
use super::summary::plural;

/// Columns the words are wrapped to.
const WIDTH: usize = 96;

/// `412 000`: `n` with its thousands apart.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Seconds the pipeline ran slowed (a scale between 0 and 1) and paused (scale 0), from the
/// seconds spent at each scale.
pub(super) fn slowed_and_paused(seconds_at_scale: &BTreeMap<String, f64>) -> (f64, f64) {
    let mut slowed = 0.0;
    let mut paused = 0.0;
    for (label, secs) in seconds_at_scale {
        match label.parse::<f64>() {
            Ok(scale) if scale <= 0.0 => paused += secs,
            Ok(scale) if scale < 1.0 => slowed += secs,
            _ => {}
        }
    }
    (slowed, paused)
}

/// Where the bars went, as a person names it: the file of a SQLite sink, else the sink.
fn place(sink: &str) -> String {
    match sink.strip_prefix("sqlite://") {
        Some(path) => path.to_owned(),
        None if sink.starts_with("memory:") => "the memory sink".to_owned(),
        None => sink.to_owned(),
    }
}

/// The sentence saying what happened, e.g. "the store fell behind 4 times and went hard 3
/// times; the pipeline slowed for 6.1 s and paused for 2.3 s; all 412 000 bars are in
/// mdp.db; nothing dropped".
pub(super) fn what_happened(s: &Summary) -> String {
    let store = match (s.behind_episodes, s.hard_episodes) {
        (0, 0) => "the store kept up all along".to_owned(),
        (behind, 0) => format!(
            "the store fell behind {} and never went hard",
            plural(behind, "time", "times")
        ),
        (behind, hard) => format!(
            "the store fell behind {} and went hard {}",
            plural(behind, "time", "times"),
            plural(hard, "time", "times")
        ),
    };
    let pipeline = match (s.seconds_slowed >= 0.05, s.seconds_paused >= 0.05) {
        (false, false) => "the pipeline ran at full speed".to_owned(),
        (true, false) => format!("the pipeline slowed for {:.1} s", s.seconds_slowed),
        (false, true) => format!("the pipeline paused for {:.1} s", s.seconds_paused),
        (true, true) => format!(
            "the pipeline slowed for {:.1} s and paused for {:.1} s",
            s.seconds_slowed, s.seconds_paused
        ),
    };
    let place = place(&s.sink);
    let held = if s.offered == 0 {
        "no bar was offered".to_owned()
    } else if s.written == s.offered && s.offered == 1 {
        format!("the one bar is in {place}")
    } else if s.written == s.offered {
        format!("all {} bars are in {place}", thousands(s.offered))
    } else {
        format!(
            "{} of {} bars are in {place}",
            thousands(s.written),
            thousands(s.offered)
        )
    };
    let kept = if s.dead_lettered > 0 {
        format!(", {} in the dead-letter file", bars(s.dead_lettered))
    } else {
        String::new()
    };
    let lost = if s.dropped == 0 {
        "nothing dropped".to_owned()
    } else {
        format!("{} dropped", bars(s.dropped))
    };
    format!("{store}; {pipeline}; {held}{kept}; {lost}")
}

/// `1 bar`, `12 000 bars`.
fn bars(n: u64) -> String {
    if n == 1 {
        "1 bar".to_owned()
    } else {
        format!("{} bars", thousands(n))
    }
}

/// What to try after the demo.
pub(super) const NEXT_STEPS: &str = "next: mdp run --port 9090 serves /metrics and /health while it \
     runs; the same loop across machines is mdp store and mdp pipeline over Redis, watched \
     and steered live by mdp orchestrator (README, \"Running the services over Redis and \
     PostgreSQL\"); your own bars: mdp run --csv \
     bars.csv --rate 5000 --sink-rate 2000";

/// `text` broken at spaces into lines of at most [`WIDTH`] columns.
pub(super) fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > WIDTH {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_set_apart() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1 000"),
            (412_000, "412 000"),
            (1_234_567, "1 234 567"),
        ] {
            assert_eq!(thousands(n), text);
        }
    }

    #[test]
    fn time_slowed_and_paused_comes_from_the_time_at_each_scale() {
        let at: BTreeMap<String, f64> =
            [("1.00", 9.0), ("0.50", 4.0), ("0.37", 2.1), ("0.00", 2.3)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
        let (slowed, paused) = slowed_and_paused(&at);
        assert!((slowed - 6.1).abs() < 1e-9 && (paused - 2.3).abs() < 1e-9);
    }

    #[test]
    fn the_sentence_says_what_happened_in_words() {
        let demo = Summary {
            offered: 412_000,
            written: 412_000,
            behind_episodes: 4,
            hard_episodes: 3,
            seconds_slowed: 6.1,
            seconds_paused: 2.3,
            sink: "sqlite://mdp.db".to_owned(),
            ..Summary::default()
        };
        assert_eq!(
            what_happened(&demo),
            "the store fell behind 4 times and went hard 3 times; the pipeline slowed for 6.1 s \
             and paused for 2.3 s; all 412 000 bars are in mdp.db; nothing dropped"
        );
        let calm = Summary {
            offered: 600,
            written: 600,
            sink: "postgres://me@db/marketdata".to_owned(),
            ..Summary::default()
        };
        assert_eq!(
            what_happened(&calm),
            "the store kept up all along; the pipeline ran at full speed; all 600 bars are in \
             postgres://me@db/marketdata; nothing dropped"
        );
        let refused = Summary {
            offered: 400,
            written: 300,
            dead_lettered: 100,
            behind_episodes: 1,
            seconds_slowed: 0.4,
            sink: "memory://".to_owned(),
            ..Summary::default()
        };
        assert_eq!(
            what_happened(&refused),
            "the store fell behind 1 time and never went hard; the pipeline slowed for 0.4 s; \
             300 of 400 bars are in the memory sink, 100 bars in the dead-letter file; nothing \
             dropped"
        );
        let one = Summary {
            offered: 1,
            written: 1,
            sink: "sqlite://x.db".to_owned(),
            ..Summary::default()
        };
        assert!(what_happened(&one).contains("; the one bar is in x.db;"));
    }

    #[test]
    fn words_wrap_at_spaces() {
        let text = "word ".repeat(40);
        let lines = wrap(text.trim_end());
        assert!(lines.iter().all(|l| l.len() <= WIDTH), "{lines:?}");
        assert_eq!(lines.join(" "), text.trim_end());
    }
}
