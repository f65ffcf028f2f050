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
pub(super) const START: Duration = Duration::from_secs(1);

/// What the store's feedback said over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelCounts {
    /// Events by level (`ok`, `soft`, `hard`).
    pub by_level: BTreeMap<String, u64>,
    /// Times the level turned hard.
    pub hard_episodes: u64,
    /// Of those, the ones that began after the first second (`START`).
    pub hard_episodes_after_start: u64,
    /// Times the level turned soft from ok.
    pub soft_episodes: u64,
    /// Times the store fell behind: its level left ok (for soft or straight for hard).
    pub behind_episodes: u64,
}

/// The episodes counted so far, read by the progress view while the run goes on.
#[derive(Debug, Default)]
pub(super) struct LiveEpisodes {
    /// Times the store fell behind.
    pub behind: AtomicU64,
    /// Times its level turned hard.
    pub hard: AtomicU64,
}

impl LiveEpisodes {
    /// (fell behind, turned hard) so far.
    pub(super) fn get(&self) -> (u64, u64) {
        (
            self.behind.load(Ordering::Relaxed),
            self.hard.load(Ordering::Relaxed),
        )
    }
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
        let was_ok = before.is_none_or(|b| b == BackpressureLevel::Ok);
        if was_ok && level != BackpressureLevel::Ok {
            self.behind_episodes += 1;
            if level == BackpressureLevel::Soft {
                self.soft_episodes += 1;
            }
        }
        if level == BackpressureLevel::Hard && before != Some(BackpressureLevel::Hard) {
            self.hard_episodes += 1;
            if after > START {
                self.hard_episodes_after_start += 1;
            }
        }
    }
}

/// Subscribes to `bus` and counts its events until the bus closes; times are taken from now.
/// The episodes so far are also kept in the returned counters, for the progress view.
pub(super) fn count_levels(bus: &FeedbackBus) -> (JoinHandle<LevelCounts>, Arc<LiveEpisodes>) {
    let mut subscription = bus.subscribe("summary");
    let started = Instant::now();
    let episodes = Arc::new(LiveEpisodes::default());
    let live = Arc::clone(&episodes);
    let task = tokio::spawn(async move {
        let mut counts = LevelCounts::new();
        let mut last = None;
        while let Some(event) = subscription.recv().await {
            counts.count(last, event.level, started.elapsed());
            live.hard.store(counts.hard_episodes, Ordering::Relaxed);
            live.behind.store(counts.behind_episodes, Ordering::Relaxed);
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
        // Left ok at 200 ms (soft) and 3 000 ms (straight to hard).
        assert_eq!(counts.behind_episodes, 2);
        assert_eq!(counts.soft_episodes, 1);
        assert_eq!(counts.hard_episodes_after_start, 2);
        assert_eq!(counts.by_level["hard"], 4);
        assert_eq!(counts.by_level["ok"], 1);
        assert_eq!(counts.by_level["soft"], 2);
    }
}
