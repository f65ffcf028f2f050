//! Counts the feedback events a store emits, by level, and its hard episodes, for the
//! summary.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use core_contracts::BackpressureLevel;
use store::feedback::FeedbackBus;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long after the start a hard episode counts as one of the start (the queue fills
/// before the first feedback can arrive).
pub const START: Duration = Duration::from_secs(1);

/// What the store's feedback said over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelCounts {
    /// Events by level (`ok`, `soft`, `hard`).
    pub by_level: BTreeMap<String, u64>,
    /// Times the level turned hard.
    pub hard_episodes: u64,
    /// Of those, the ones that began after the first second ([`START`]).
    pub hard_episodes_after_start: u64,
}

impl LevelCounts {
    fn new() -> Self {
        Self {
            by_level: ["ok", "soft", "hard"]
                .into_iter()
                .map(|l| (l.to_owned(), 0))
                .collect(),
            ..Self::default()
        }
    }

    /// Counts `level`, emitted `after` the start, following an event at `before`.
    fn count(
        &mut self,
        before: Option<BackpressureLevel>,
        level: BackpressureLevel,
        after: Duration,
    ) {
        *self.by_level.entry(level.as_str().to_owned()).or_default() += 1;
        if level == BackpressureLevel::Hard && before != Some(BackpressureLevel::Hard) {
            self.hard_episodes += 1;
            if after > START {
                self.hard_episodes_after_start += 1;
            }
        }
    }
}

/// Subscribes to `bus` and counts its events until the bus closes; times are taken from now.
/// The hard episodes so far are also kept in the returned counter, for the progress line.
pub fn count_levels(bus: &FeedbackBus) -> (JoinHandle<LevelCounts>, Arc<AtomicU64>) {
    let mut subscription = bus.subscribe("summary");
    let started = Instant::now();
    let episodes = Arc::new(AtomicU64::new(0));
    let live = Arc::clone(&episodes);
    let task = tokio::spawn(async move {
        let mut counts = LevelCounts::new();
        let mut last = None;
        while let Some(event) = subscription.recv().await {
            counts.count(last, event.level, started.elapsed());
            live.store(counts.hard_episodes, Ordering::Relaxed);
            last = Some(event.level);
        }
        counts
    });
    (task, episodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackpressureLevel::{Hard, Ok, Soft};

    #[test]
    fn an_episode_is_a_turn_to_hard_and_the_first_second_is_told_apart() {
        let ms = Duration::from_millis;
        let mut counts = LevelCounts::new();
        let events = [
            (Soft, ms(200)),
            (Hard, ms(400)),
            (Hard, ms(1_500)),
            (Ok, ms(2_000)),
            (Hard, ms(3_000)),
            (Soft, ms(4_000)),
            (Hard, ms(5_000)),
        ];
        let mut last = None;
        for (level, at) in events {
            counts.count(last, level, at);
            last = Some(level);
        }
        assert_eq!(counts.hard_episodes, 3);
        assert_eq!(counts.hard_episodes_after_start, 2);
        assert_eq!(counts.by_level["hard"], 4);
        assert_eq!(counts.by_level["ok"], 1);
        assert_eq!(counts.by_level["soft"], 2);
    }
}
