//! The progress line of `mdp run`: bars/s written, queue depth, level and rate scale, on
//! stderr, redrawn four times a second on a terminal and logged every two seconds otherwise.
//! It also samples the queue depth for the summary: its peak and its distribution.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use pipeline::service::ScaleRecorder;
use pulse::CancellationToken;
use store::coordinator::WriteCoordinator;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::DepthHistogram;

const SAMPLE_EVERY: Duration = Duration::from_millis(50);
const TTY_EVERY: u32 = 5;
const LOG_EVERY: u32 = 40;

/// The progress task, which returns the depths it sampled.
#[derive(Debug)]
pub struct Progress {
    task: JoinHandle<DepthHistogram>,
    stop: CancellationToken,
    capacity: usize,
}

impl Progress {
    /// Starts sampling `coordinator` and `recorder`; draws only when `draw` is set.
    pub fn start(coordinator: WriteCoordinator, recorder: Arc<ScaleRecorder>, draw: bool) -> Self {
        let stop = CancellationToken::new();
        let capacity = coordinator.config().capacity.get();
        let tty = std::io::stderr().is_terminal();
        let task = tokio::spawn(run(
            coordinator,
            recorder,
            stop.clone(),
            draw.then_some(tty),
        ));
        Self {
            task,
            stop,
            capacity,
        }
    }

    /// Stops the task (clearing the line on a terminal) and returns the depths it sampled.
    pub async fn stop(self) -> DepthHistogram {
        self.stop.cancel();
        self.task.await.unwrap_or_else(|error| {
            tracing::warn!(%error, "progress task failed");
            DepthHistogram::new(self.capacity)
        })
    }
}

async fn run(
    coordinator: WriteCoordinator,
    recorder: Arc<ScaleRecorder>,
    stop: CancellationToken,
    draw: Option<bool>,
) -> DepthHistogram {
    let mut depths = DepthHistogram::new(coordinator.config().capacity.get());
    let mut ticker = tokio::time::interval(SAMPLE_EVERY);
    let mut ticks = 0u32;
    let started = Instant::now();
    let mut last = (Instant::now(), 0u64);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticker.tick() => {}
        }
        depths.record(coordinator.queue_depth());
        ticks += 1;
        let Some(tty) = draw else { continue };
        let every = if tty { TTY_EVERY } else { LOG_EVERY };
        if !ticks.is_multiple_of(every) {
            continue;
        }
        let written = coordinator.stats().written;
        let secs = last.0.elapsed().as_secs_f64().max(1e-9);
        let rate = (written - last.1) as f64 / secs;
        last = (Instant::now(), written);
        let (scale, _) = recorder.current();
        let line = format!(
            "[{:>6.1}s] {:>9.0} bars/s  written {:>10}  queue {:>6}/{}  level {:<4}  scale {:.2}",
            started.elapsed().as_secs_f64(),
            rate,
            written,
            coordinator.queue_depth(),
            coordinator.config().capacity,
            coordinator.current_level().as_str(),
            scale,
        );
        let mut err = std::io::stderr().lock();
        let _ = if tty {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }
    if draw == Some(true) {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
    depths
}
