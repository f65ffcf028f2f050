//! The progress of `mdp run` on stderr: on a terminal, the view of [`super::view`] redrawn
//! four times a second; otherwise a plain line every two seconds with bars/s written
//! (smoothed over about two seconds), queue depth, level, rate scale, hard episodes so far
//! and the time spent at each scale. It also samples the queue depth for the summary: its
//! peak and its distribution.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use pipeline::service::ScaleRecorder;
use pulse::CancellationToken;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use store::coordinator::WriteCoordinator;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::DepthHistogram;
use super::demo::Shape;
use super::levels::LiveEpisodes;
use super::summary::{plural, scale_times};
use super::view::{self, HEIGHT, Reading, View};
use crate::paint::{self, Painter};

const SAMPLE_EVERY: Duration = Duration::from_millis(50);
/// Ticks between two readings of the terminal view (a quarter second).
const VIEW_EVERY: u32 = 5;
/// Ticks between two plain lines (two seconds).
const LOG_EVERY: u32 = 40;
/// Time constant of the smoothed rate, in seconds.
const RATE_SMOOTHING_SECS: f64 = 2.0;
/// Scales shown on the progress line.
const SHOWN_SCALES: usize = 3;
/// Widest view drawn, in columns.
const MAX_WIDTH: u16 = 110;
/// Narrowest view drawn, in columns.
const MIN_WIDTH: u16 = 40;

/// The columns to draw on the terminal behind stderr: its width less one (a full last
/// column makes some terminals wrap), within [`MIN_WIDTH`, `MAX_WIDTH`].
fn width() -> u16 {
    terminal_size::terminal_size_of(std::io::stderr())
        .map_or(80, |(w, _)| w.0.saturating_sub(1))
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

/// A rate smoothed exponentially over `tau` seconds: readings of a count at arbitrary
/// times (the caller's clock) give a figure that does not swing between 0 and the burst
/// rate when bars are written in batches.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SmoothedRate {
    tau: f64,
    last: Option<(f64, u64)>,
    value: f64,
}

impl SmoothedRate {
    /// A rate smoothed over `tau` seconds.
    pub(super) fn new(tau: f64) -> Self {
        Self {
            tau,
            last: None,
            value: 0.0,
        }
    }

    /// Takes the count `count` at `at` seconds and returns the smoothed rate.
    pub(super) fn update(&mut self, at: f64, count: u64) -> f64 {
        if let Some((then, before)) = self.last {
            let dt = at - then;
            if dt > 0.0 {
                let instant = count.saturating_sub(before) as f64 / dt;
                let alpha = 1.0 - (-dt / self.tau).exp();
                self.value += alpha * (instant - self.value);
            }
        }
        self.last = Some((at, count));
        self.value
    }
}

/// What one progress line shows.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Frame {
    /// Seconds since the start.
    pub elapsed: f64,
    /// Smoothed bars written per second.
    pub rate: f64,
    /// Bars written so far.
    pub written: u64,
    /// Bars in the queue.
    pub queue: usize,
    /// The queue's capacity.
    pub capacity: usize,
    /// The store's level.
    pub level: &'static str,
    /// The pipeline's rate scale.
    pub scale: f64,
    /// Times the store turned hard so far.
    pub hard_episodes: u64,
    /// The scales held longest so far and for how long.
    pub at_scale: String,
}

/// The line of `frame`.
pub(super) fn render(frame: &Frame) -> String {
    format!(
        "[{:>6.1}s] {:>9.0} bars/s  written {:>10}  queue {:>6}/{}  level {:<4}  scale {:.2}  \
         {}  at scale {}",
        frame.elapsed,
        frame.rate,
        frame.written,
        frame.queue,
        frame.capacity,
        frame.level,
        frame.scale,
        plural(frame.hard_episodes, "hard episode", "hard episodes"),
        frame.at_scale,
    )
}

/// The progress task, which returns the depths it sampled.
#[derive(Debug)]
pub(super) struct Progress {
    task: JoinHandle<DepthHistogram>,
    stop: CancellationToken,
    capacity: usize,
}

/// What the progress task reads.
pub(super) struct Sources {
    /// The store's coordinator.
    pub coordinator: WriteCoordinator,
    /// The pipeline's scale history.
    pub recorder: Arc<ScaleRecorder>,
    /// The episodes counted so far.
    pub episodes: Arc<LiveEpisodes>,
    /// The demo's shape, when it runs.
    pub demo: Option<Shape>,
    /// When the run started.
    pub started: Instant,
}

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Nowhere (the summary is JSON).
    Quiet,
    /// A plain line every two seconds (stderr is not a terminal).
    Lines,
    /// The terminal view, redrawn four times a second.
    View,
}

impl Progress {
    /// Starts sampling `sources`; draws only when `draw` is set: the terminal view when
    /// stderr is a terminal, plain lines otherwise.
    pub(super) fn start(sources: Sources, draw: bool) -> Self {
        let stop = CancellationToken::new();
        let capacity = sources.coordinator.config().capacity.get();
        let output = match (draw, std::io::stderr().is_terminal()) {
            (false, _) => Output::Quiet,
            (true, false) => Output::Lines,
            (true, true) => Output::View,
        };
        let task = tokio::spawn(run(sources, stop.clone(), output));
        Self {
            task,
            stop,
            capacity,
        }
    }

    /// Stops the task (leaving the last view on a terminal) and returns the depths it
    /// sampled.
    pub(super) async fn stop(self) -> DepthHistogram {
        self.stop.cancel();
        self.task.await.unwrap_or_else(|error| {
            tracing::warn!(%error, "progress task failed");
            DepthHistogram::new(self.capacity)
        })
    }
}

/// Draws the terminal view.
struct Screen {
    view: View,
    painter: Painter<std::io::Stderr>,
}

impl Screen {
    fn new(capacity: usize) -> Self {
        Self {
            view: View::new(capacity),
            painter: Painter::new(std::io::stderr(), paint::color_wanted()),
        }
    }

    fn draw(&mut self) {
        let mut buf = Buffer::empty(Rect::new(0, 0, width(), HEIGHT));
        view::draw(&self.view, buf.area, &mut buf);
        if let Err(error) = self.painter.paint(&buf) {
            tracing::debug!(%error, "cannot draw the progress view");
        }
    }
}

async fn run(sources: Sources, stop: CancellationToken, output: Output) -> DepthHistogram {
    let coordinator = &sources.coordinator;
    let capacity = coordinator.config().capacity.get();
    let mut depths = DepthHistogram::new(capacity);
    let mut ticker = tokio::time::interval(SAMPLE_EVERY);
    let mut ticks = 0u32;
    let mut rate = SmoothedRate::new(RATE_SMOOTHING_SECS);
    let mut screen = (output == Output::View).then(|| Screen::new(capacity));
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let queue = coordinator.queue_depth();
        depths.record(queue);
        ticks += 1;
        let since = sources.started.elapsed();
        let elapsed = since.as_secs_f64();
        let written = coordinator.stats().written;
        let smoothed = rate.update(elapsed, written);
        let (scale, _) = sources.recorder.current();
        let (behind, hard) = sources.episodes.get();
        if let Some(screen) = screen.as_mut()
            && ticks.is_multiple_of(VIEW_EVERY)
        {
            screen.view.push(Reading {
                elapsed,
                written,
                rate: smoothed,
                queue,
                level: coordinator.current_level(),
                scale,
                behind,
                hard,
                demo: sources.demo.map(|shape| shape.at(since)),
            });
            screen.draw();
        }
        if output != Output::Lines || !ticks.is_multiple_of(LOG_EVERY) {
            continue;
        }
        let (spent, _) = sources.recorder.spent();
        let line = render(&Frame {
            elapsed,
            rate: smoothed,
            written,
            queue,
            capacity,
            level: coordinator.current_level().as_str(),
            scale,
            hard_episodes: hard,
            at_scale: scale_times(&spent, SHOWN_SCALES, 1),
        });
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
        let _ = err.flush();
    }
    depths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_writes_give_a_steady_rate_not_a_swing() {
        // 200 bars/s written in batches of 100 every half second, read every 50 ms.
        let mut rate = SmoothedRate::new(RATE_SMOOTHING_SECS);
        let mut shown = Vec::new();
        for tick in 0..=400u32 {
            let at = f64::from(tick) * 0.05;
            let written = u64::from(tick / 10) * 100;
            let value = rate.update(at, written);
            if at >= 10.0 && tick.is_multiple_of(5) {
                shown.push(value);
            }
        }
        let (low, high) = shown
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
        assert!(
            low > 150.0 && high < 250.0,
            "shown between {low:.0} and {high:.0}"
        );
    }

    #[test]
    fn the_smoothed_rate_follows_a_change_within_a_few_seconds() {
        let mut rate = SmoothedRate::new(RATE_SMOOTHING_SECS);
        let mut written = 0u64;
        let mut value = 0.0;
        for tick in 1..=200u32 {
            written += if tick <= 100 { 50 } else { 5 };
            value = rate.update(f64::from(tick) * 0.05, written);
            if tick == 100 {
                assert!((value - 1000.0).abs() < 100.0, "{value}");
            }
        }
        assert!(
            value < 250.0,
            "five seconds after the drop to 100 bars/s: {value}"
        );
        assert_eq!(
            rate.update(10.0, written),
            value,
            "no time passed: unchanged"
        );
    }

    #[test]
    fn a_frame_renders_as_one_line_with_episodes_and_time_at_scale() {
        let frame = Frame {
            elapsed: 12.31,
            rate: 1234.4,
            written: 15_000,
            queue: 420,
            capacity: 1000,
            level: "soft",
            scale: 0.5,
            hard_episodes: 1,
            at_scale: "1.00: 8.1 s, 0.50: 3.0 s".to_owned(),
        };
        assert_eq!(
            render(&frame),
            "[  12.3s]      1234 bars/s  written      15000  queue    420/1000  level soft  \
             scale 0.50  1 hard episode  at scale 1.00: 8.1 s, 0.50: 3.0 s"
        );
        let frame = Frame {
            hard_episodes: 3,
            ..frame
        };
        assert!(render(&frame).contains(" 3 hard episodes "));
    }
}
