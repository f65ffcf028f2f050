//! The periodic INFO line of a running service (`MDP_LOG_SUMMARY_SEC`, every 30 s): what it
//! did since the last one, so a log shows a working service rather than silence.

use std::future::Future;
use std::time::Duration;

use pulse::CancellationToken;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// One reading of a service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Bars written (a store) or published (a pipeline) so far.
    pub bars: u64,
    /// The level in force: the store's own, or the one the pipeline obeys.
    pub level: &'static str,
    /// The pipeline's rate scale (none for a store).
    pub scale: Option<f64>,
    /// The bars stream's backlog for the store group, when it could be read.
    pub backlog: Option<u64>,
    /// Bars in the store's queue (none for a pipeline).
    pub queue: Option<usize>,
}

/// Bars per second between two counts `secs` apart.
pub fn per_second(before: u64, after: u64, secs: f64) -> f64 {
    if secs <= 0.0 {
        return 0.0;
    }
    after.saturating_sub(before) as f64 / secs
}

/// Which service logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `mdp store`: bars written.
    Store,
    /// `mdp pipeline`: bars published.
    Pipeline,
}

/// Logs a summary every `every` (never when `None`) until `stop`, from `read`.
pub fn spawn<F, Fut>(
    service: Service,
    every: Option<Duration>,
    read: F,
    stop: CancellationToken,
) -> Option<JoinHandle<()>>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Reading> + Send,
{
    let every = every?;
    Some(tokio::spawn(async move {
        let mut last = (Instant::now(), read().await.bars);
        let mut ticker = tokio::time::interval_at(Instant::now() + every, every);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let r = read().await;
            let now = Instant::now();
            let rate = per_second(last.1, r.bars, now.duration_since(last.0).as_secs_f64());
            let rate = (rate * 10.0).round() / 10.0;
            last = (now, r.bars);
            let backlog = r
                .backlog
                .map_or(-1, |b| i64::try_from(b).unwrap_or(i64::MAX));
            match service {
                Service::Store => tracing::info!(
                    written = r.bars,
                    rate_per_sec = rate,
                    level = r.level,
                    queue = r.queue.unwrap_or(0),
                    backlog,
                    "store summary"
                ),
                Service::Pipeline => tracing::info!(
                    published = r.bars,
                    rate_per_sec = rate,
                    level = r.level,
                    scale = r.scale.unwrap_or(1.0),
                    backlog,
                    "pipeline summary"
                ),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_bars_since_the_last_reading_over_the_time_between() {
        assert_eq!(per_second(1_000, 4_000, 30.0), 100.0);
        assert_eq!(per_second(4_000, 4_000, 30.0), 0.0);
        assert_eq!(per_second(5, 4, 30.0), 0.0);
        assert_eq!(per_second(0, 10, 0.0), 0.0);
    }
}
