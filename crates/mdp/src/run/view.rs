//! The terminal view of `mdp run`, read at a glance: the level in colour, bars written and
//! their smoothed rate, the episodes so far, and the queue fill, rate scale and write rate
//! of the last seconds as sparklines (newest on the right). What the demo asks is on the
//! first line when it runs.
//!
//! [`draw`] is pure: it renders a [`View`] and a [`Reading`] into a ratatui buffer, which
//! [`crate::paint`] writes to the terminal.

use std::collections::VecDeque;

use core_contracts::BackpressureLevel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Sparkline, SparklineBar, Widget};

use super::demo::Ask;
use super::story::thousands;
use super::summary::plural;

/// Lines the view takes.
pub(super) const HEIGHT: u16 = 5;

/// Samples kept: a minute at four a second, more than the widest sparkline shows.
const HISTORY: usize = 240;

/// Columns of the label before each sparkline.
const LABEL: u16 = 8;

/// Columns of the figures after each sparkline.
const FIGURES: u16 = 24;

/// What the run reads at one moment.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Reading {
    /// Seconds since the start.
    pub elapsed: f64,
    /// Bars written so far.
    pub written: u64,
    /// Bars written per second, smoothed.
    pub rate: f64,
    /// Bars in the queue.
    pub queue: usize,
    /// The store's level.
    pub level: BackpressureLevel,
    /// The pipeline's rate scale.
    pub scale: f64,
    /// Times the store fell behind so far.
    pub behind: u64,
    /// Times its level turned hard so far.
    pub hard: u64,
    /// What the demo asks now, when it runs.
    pub demo: Option<Ask>,
}

/// The history the sparklines draw.
#[derive(Debug, Clone)]
pub(super) struct View {
    capacity: usize,
    history: VecDeque<Reading>,
}

impl View {
    /// An empty view of a queue of `capacity` bars.
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            history: VecDeque::with_capacity(HISTORY),
        }
    }

    /// Adds `reading` to the history.
    pub(super) fn push(&mut self, reading: Reading) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(reading);
    }

    /// The latest reading, if any.
    pub(super) fn latest(&self) -> Option<&Reading> {
        self.history.back()
    }

    /// The last `n` readings, oldest first.
    fn last(&self, n: usize) -> impl Iterator<Item = &Reading> {
        self.history
            .iter()
            .skip(self.history.len().saturating_sub(n))
    }
}

/// The colour of a level.
pub(crate) fn level_color(level: BackpressureLevel) -> Color {
    match level {
        BackpressureLevel::Ok => Color::Green,
        BackpressureLevel::Soft => Color::Yellow,
        BackpressureLevel::Hard => Color::Red,
    }
}

/// The scale in a word.
fn scale_word(scale: f64) -> &'static str {
    if scale >= 0.995 {
        "full speed"
    } else if scale > 0.0 {
        "slowed"
    } else {
        "paused"
    }
}

/// Draws `view` with its latest reading into `area` of `buf` ([`HEIGHT`] lines).
pub(super) fn draw(view: &View, area: Rect, buf: &mut Buffer) {
    let Some(now) = view.latest() else { return };
    let row = |i: u16| Rect {
        y: area.y + i,
        height: 1,
        ..area
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut title = vec![
        Span::styled("mdp run", bold),
        Span::raw(format!("  {:.1} s", now.elapsed)),
    ];
    if let Some(ask) = &now.demo {
        title.push(Span::raw(format!(
            "  demo: {}, asking {} bars/s, {:.1}x the sink",
            ask.phase.as_str(),
            thousands(ask.rate.round() as u64),
            ask.times_sink
        )));
    }
    Line::from(title).render(row(0), buf);
    let level = now.level.as_str().to_uppercase();
    Line::from(vec![
        Span::raw("level   "),
        Span::styled(format!("{level:<4}"), bold.fg(level_color(now.level))),
        Span::raw(format!(
            "  written {}  {} bars/s  fell behind {}, hard {}",
            thousands(now.written),
            thousands(now.rate.round() as u64),
            plural(now.behind, "time", "times"),
            plural(now.hard, "time", "times"),
        )),
    ])
    .render(row(1), buf);

    let width = area.width.saturating_sub(LABEL + FIGURES);
    let n = usize::from(width);
    let pad = n.saturating_sub(view.history.len().min(n));
    let bars = |value: &dyn Fn(&Reading) -> (u64, Style)| -> Vec<SparklineBar> {
        std::iter::repeat_n(SparklineBar::from(None), pad)
            .chain(view.last(n).map(|r| {
                let (v, style) = value(r);
                SparklineBar::from(v).style(Some(style))
            }))
            .collect()
    };
    let capacity = view.capacity.max(1);
    let fill = now.queue * 100 / capacity;
    let peak_rate = view
        .last(n)
        .map(|r| r.rate.round() as u64)
        .max()
        .unwrap_or(0)
        .max(1);
    let lines: [(&str, Vec<SparklineBar>, u64, String); 3] = [
        (
            "queue",
            bars(&|r| {
                let style = Style::default().fg(level_color(r.level));
                (r.queue as u64, style)
            }),
            capacity as u64,
            format!(
                "{}/{} {fill:>3} %",
                thousands(now.queue as u64),
                thousands(capacity as u64)
            ),
        ),
        (
            "scale",
            bars(&|r| {
                let value = (r.scale.clamp(0.0, 1.0) * 100.0).round() as u64;
                (value, Style::default().fg(Color::Cyan))
            }),
            100,
            format!("{:.2} {}", now.scale, scale_word(now.scale)),
        ),
        (
            "written",
            bars(&|r| (r.rate.round() as u64, Style::default())),
            peak_rate,
            format!("{} bars/s", thousands(now.rate.round() as u64)),
        ),
    ];
    for (i, (label, data, max, figures)) in lines.into_iter().enumerate() {
        let line = row(2 + i as u16);
        Span::raw(label).render(line, buf);
        let spark = Rect {
            x: line.x + LABEL,
            width,
            ..line
        };
        Sparkline::default().data(data).max(max).render(spark, buf);
        let right = Rect {
            x: spark.x + width + 1,
            width: FIGURES
                .saturating_sub(1)
                .min(line.width.saturating_sub(LABEL + width + 1)),
            ..line
        };
        Span::raw(figures).render(right, buf);
    }
}

#[cfg(test)]
mod tests {
    use BackpressureLevel::{Hard, Ok as Fine, Soft};

    use super::super::demo::{LENGTH, Phase, SINK_RATE, Shape};
    use super::*;

    fn text(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    fn reading(at: f64, queue: usize, level: BackpressureLevel, scale: f64) -> Reading {
        let shape = Shape::new(SINK_RATE, LENGTH);
        Reading {
            elapsed: at,
            written: (at * 1_900.0) as u64,
            rate: if scale > 0.0 { 2_000.0 } else { 1_500.0 },
            queue,
            level,
            scale,
            behind: u64::from(at > 4.0) + u64::from(at > 9.5),
            hard: u64::from(at > 5.0) + u64::from(at > 10.0),
            demo: Some(shape.at(std::time::Duration::from_secs_f64(at))),
        }
    }

    /// The view after the readings of `moments`, drawn 79 columns wide.
    fn drawn(moments: &[Reading]) -> Buffer {
        let mut view = View::new(10_000);
        for r in moments {
            view.push(r.clone());
        }
        let mut buf = Buffer::empty(Rect::new(0, 0, 79, HEIGHT));
        draw(&view, buf.area, &mut buf);
        buf
    }

    #[test]
    fn the_view_at_three_moments_of_the_demo() {
        // Every quarter second: a quiet open, a burst that fills the queue until the store
        // turns soft then hard and the pipeline pauses, and the drain after it.
        let mut day = Vec::new();
        for tick in 0..=44u32 {
            let at = f64::from(tick) / 4.0;
            let (queue, level, scale) = match tick {
                0..=11 => (100, Fine, 1.0),
                12..=15 => (2_000 * (tick as usize - 11), Fine, 1.0),
                16..=19 => (5_000 + 700 * (tick as usize - 15), Soft, 0.5),
                20..=25 => (8_000 - 500 * (tick as usize - 20), Hard, 0.0),
                _ => (5_000 - 100 * (tick as usize - 25), Soft, 0.5),
            };
            day.push(reading(at, queue, level, scale));
        }

        let quiet = drawn(&day[..=8]);
        assert_eq!(
            text(&quiet),
            [
                "mdp run  2.0 s  demo: quiet open, asking 967 bars/s, 0.5x the sink",
                "level   OK    written 3 800  2 000 bars/s  fell behind 0 times, hard 0 times",
                "queue                                                   100/10 000   1 %",
                "scale                                         █████████ 1.00 full speed",
                "written                                       █████████ 2 000 bars/s",
            ]
        );
        assert_eq!(quiet[(8, 1)].fg, Color::Green);

        let paused = drawn(&day[..=21]);
        assert_eq!(
            text(&paused),
            [
                "mdp run  5.2 s  demo: burst, asking 8 000 bars/s, 4.0x the sink",
                "level   HARD  written 9 975  1 500 bars/s  fell behind 1 time, hard 1 time",
                "queue                                        ▁▃▄▆▄▅▅▆▆▆ 7 500/10 000  75 %",
                "scale                            ████████████████▄▄▄▄   0.00 paused",
                "written                          ████████████████████▆▆ 1 500 bars/s",
            ]
        );
        assert_eq!(paused[(8, 1)].fg, Color::Red);
        // 22 readings on 47 columns: the first at column LABEL + 25.
        let at = |i: u16| (LABEL + 25 + i, 2);
        assert_eq!(paused[at(13)].fg, Color::Green, "ok samples in green");
        assert_eq!(paused[at(16)].fg, Color::Yellow, "soft samples in yellow");
        assert_eq!(paused[at(20)].fg, Color::Red, "hard samples in red");

        let draining = drawn(&day);
        assert_eq!(
            text(&draining),
            [
                "mdp run  11.0 s  demo: burst, asking 10 000 bars/s, 5.0x the sink",
                "level   SOFT  written 20 900  2 000 bars/s  fell behind 2 times, hard 2 times",
                "queue                 ▁▃▄▆▄▅▅▆▆▆▅▅▄▄▃▃▃▃▃▃▃▃▃▃▃▃▂▂▂▂▂▂▂ 3 100/10 000  31 %",
                "scale     ████████████████▄▄▄▄      ▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄ 0.50 slowed",
                "written   ████████████████████▆▆▆▆▆▆███████████████████ 2 000 bars/s",
            ]
        );
        assert_eq!(draining[(8, 1)].fg, Color::Yellow);
        assert_eq!(day[44].demo.map(|a| a.phase), Some(Phase::Burst));
    }
}
