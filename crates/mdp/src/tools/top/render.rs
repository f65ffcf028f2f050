//! The frame of `mdp top`, drawn from one topology snapshot.
//!
//! Two header lines: the cluster, the system's health in colour and its reason; then the age
//! of the snapshot with the backlog of the bars stream, or the error of the last fetch
//! followed by that age. Then a
//! table of the stores (level, queue, breaker, pause, health and why) and one of the
//! pipelines (level, rate scale, bars/s, published, backlog, pause, health and why). Members
//! that went stale, left or are gone are dimmed, with their presence marked in colour.
//!
//! The reason comes last on every line and is cut with `…` to the width; when even that
//! leaves it fewer than [`MIN_REASON`] columns, the least needed columns are left out
//! (a store's breaker then its pause; a pipeline's provider, backlog, published and pause).
//!
//! [`render`] is pure: the time and the error are given, so that a frame can be tested.

use core_contracts::{ClusterTopology, HealthState, PipelineView, Presence, StoreView};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use crate::run::{level_color, thousands};

/// Blank columns between two columns of a table.
const GAP: u16 = 2;
/// Columns the reason keeps before optional columns are left out.
const MIN_REASON: u16 = 24;
/// Widest id shown.
const MAX_ID: u16 = 24;
/// The title of the presence column, whose cells stay bright in a dimmed row.
const PRESENCE: &str = "presence";

/// Lines a frame of `topology` takes (two when there is none yet).
pub(crate) fn height(topology: Option<&ClusterTopology>) -> u16 {
    let Some(t) = topology else { return 2 };
    // A table is its title and a line per member, or one line saying there is none.
    let table = |rows: usize| match rows {
        0 => 1,
        n => u16::try_from(n).unwrap_or(u16::MAX).saturating_add(1),
    };
    // The header, the status line and a blank line before each table.
    4u16.saturating_add(table(t.stores.len()))
        .saturating_add(table(t.pipelines.len()))
}

/// Draws the frame of `topology` (the last snapshot fetched, if any) into `area` of `buf`:
/// `now` is the time in Unix epoch seconds (for the age of the snapshot), `error` why the
/// last fetch failed, if it did. Lines below `area` are left out.
pub(crate) fn render(
    topology: Option<&ClusterTopology>,
    now: f64,
    error: Option<&str>,
    area: Rect,
    buf: &mut Buffer,
) {
    let mut lines = Lines { area, next: 0 };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let red = Style::default().fg(Color::Red);
    let Some(t) = topology else {
        if let Some(y) = lines.next() {
            let x = put(buf, area.x, y, area.right(), "mdp top", bold);
            put(
                buf,
                x,
                y,
                area.right(),
                "  no snapshot yet",
                Style::default(),
            );
        }
        if let Some(y) = lines.next() {
            match error {
                Some(error) => put(
                    buf,
                    area.x,
                    y,
                    area.right(),
                    &format!("error: {error}"),
                    red,
                ),
                None => put(
                    buf,
                    area.x,
                    y,
                    area.right(),
                    "waiting for the orchestrator",
                    Style::default(),
                ),
            };
        }
        return;
    };
    if let Some(y) = lines.next() {
        header(t, area, y, buf);
    }
    if let Some(y) = lines.next() {
        status(t, now, error, area, y, buf);
    }
    lines.next();
    if t.stores.is_empty() {
        if let Some(y) = lines.next() {
            let dim = Style::default().add_modifier(Modifier::DIM);
            put(buf, area.x, y, area.right(), "no store heard from yet", dim);
        }
    } else {
        let rows: Vec<Row> = t.stores.iter().map(store_row).collect();
        table(&STORE_COLUMNS, &rows, &mut lines, buf);
    }
    lines.next();
    if t.pipelines.is_empty() {
        if let Some(y) = lines.next() {
            let dim = Style::default().add_modifier(Modifier::DIM);
            put(
                buf,
                area.x,
                y,
                area.right(),
                "no pipeline heard from yet",
                dim,
            );
        }
    } else {
        let rows: Vec<Row> = t.pipelines.iter().map(pipeline_row).collect();
        table(&PIPELINE_COLUMNS, &rows, &mut lines, buf);
    }
}

/// The lines of the area, one after another.
struct Lines {
    area: Rect,
    next: u16,
}

impl Lines {
    /// The next line, `None` below the area.
    fn next(&mut self) -> Option<u16> {
        let y = (self.next < self.area.height).then(|| self.area.y + self.next);
        self.next = self.next.saturating_add(1);
        y
    }
}

/// `mdp top  cluster mdp (local)  UNHEALTHY  store store-a: hard: ...`.
fn header(t: &ClusterTopology, area: Rect, y: u16, buf: &mut Buffer) {
    let right = area.right();
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut x = put(buf, area.x, y, right, "mdp top", bold);
    let region = match &t.region.zone {
        Some(zone) => format!("{}/{zone}", t.region.name),
        None => t.region.name.clone(),
    };
    x = put(
        buf,
        x,
        y,
        right,
        &format!("  cluster {} ({region})  ", t.cluster_id.value),
        Style::default(),
    );
    match &t.health {
        Some(health) => {
            let word = health_word(health.state).to_uppercase();
            x = put(buf, x, y, right, &word, bold.fg(health_color(health.state)));
        }
        None => {
            let dim = Style::default().add_modifier(Modifier::DIM);
            x = put(buf, x, y, right, "health unknown", dim);
        }
    }
    if let Some(reason) = t.reason.as_deref().filter(|r| !r.is_empty()) {
        put(buf, x, y, right, &format!("  {reason}"), Style::default());
    }
}

/// `snapshot 0.8 s old  bars backlog 12 000: ...`, or `error: ...  snapshot 9.0 s old` when
/// the last fetch failed.
fn status(
    t: &ClusterTopology,
    now: f64,
    error: Option<&str>,
    area: Rect,
    y: u16,
    buf: &mut Buffer,
) {
    let right = area.right();
    let age = match t.ts {
        Some(ts) => format!("snapshot {} old", age(now - ts)),
        None => "snapshot of unknown age".to_owned(),
    };
    if let Some(error) = error {
        let red = Style::default().fg(Color::Red);
        let x = put(buf, area.x, y, right, &format!("error: {error}"), red);
        put(buf, x, y, right, &format!("  {age}"), Style::default());
        return;
    }
    let x = put(buf, area.x, y, right, &age, Style::default());
    let backlog = match &t.bars {
        Some(bars) => format!(
            "  bars backlog {}: {} undelivered, {} pending",
            thousands(bars.undelivered.saturating_add(bars.pending)),
            thousands(bars.undelivered),
            thousands(bars.pending)
        ),
        None => "  bars backlog unknown".to_owned(),
    };
    put(buf, x, y, right, &backlog, Style::default());
}

/// `0.8 s`, `3 min`, `2 h`, `400 d`: an age in seconds (0 when negative, a clock skew).
fn age(secs: f64) -> String {
    let secs = if secs.is_finite() { secs.max(0.0) } else { 0.0 };
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3_600.0 {
        format!("{} min", (secs / 60.0).floor())
    } else if secs < 86_400.0 {
        format!("{} h", (secs / 3_600.0).floor())
    } else {
        format!("{} d", (secs / 86_400.0).floor())
    }
}

/// A health state in a word.
fn health_word(state: HealthState) -> &'static str {
    match state {
        HealthState::Healthy => "healthy",
        HealthState::Degraded => "degraded",
        HealthState::Unhealthy => "unhealthy",
    }
}

/// The colour of a health state.
fn health_color(state: HealthState) -> Color {
    match state {
        HealthState::Healthy => Color::Green,
        HealthState::Degraded => Color::Yellow,
        HealthState::Unhealthy => Color::Red,
    }
}

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// A column of a table; the reason after the last one fills the rest of the line.
#[derive(Debug, Clone, Copy)]
struct Column {
    title: &'static str,
    align: Align,
    /// Left out when the line is short: lowest first; `None` always shown.
    drop: Option<u8>,
}

const fn col(title: &'static str, align: Align, drop: Option<u8>) -> Column {
    Column { title, align, drop }
}

const STORE_COLUMNS: [Column; 9] = [
    col("store", Align::Left, None),
    col(PRESENCE, Align::Left, None),
    col("level", Align::Left, None),
    col("queue", Align::Right, None),
    col("util", Align::Right, None),
    col("breaker", Align::Left, Some(0)),
    col("paused", Align::Left, Some(1)),
    col("health", Align::Left, None),
    col("reason", Align::Left, None),
];

const PIPELINE_COLUMNS: [Column; 11] = [
    col("pipeline", Align::Left, None),
    col("provider", Align::Left, Some(0)),
    col(PRESENCE, Align::Left, None),
    col("level", Align::Left, None),
    col("scale", Align::Right, None),
    col("bars/s", Align::Right, None),
    col("published", Align::Right, Some(2)),
    col("backlog", Align::Right, Some(1)),
    col("paused", Align::Left, Some(3)),
    col("health", Align::Left, None),
    col("reason", Align::Left, None),
];

/// A cell's text and style.
#[derive(Debug, Clone)]
struct Cell {
    text: String,
    style: Style,
}

impl Cell {
    fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            style: Style::default(),
        }
    }

    fn styled(text: impl Into<String>, style: Style) -> Self {
        Self {
            text: text.into(),
            style,
        }
    }
}

/// One member's cells (one per column), dimmed when it is not live.
#[derive(Debug, Clone)]
struct Row {
    cells: Vec<Cell>,
    dim: bool,
}

/// The presence cell, marked unless live (kept bright in a dimmed row).
fn presence_cell(presence: Presence) -> Cell {
    let style = match presence {
        Presence::Live => Style::default(),
        Presence::Stale => Style::default().fg(Color::Yellow),
        Presence::Left => Style::default().add_modifier(Modifier::BOLD),
        Presence::Gone => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
    };
    Cell::styled(presence.as_str(), style)
}

fn level_cell(level: core_contracts::BackpressureLevel) -> Cell {
    let style = Style::default()
        .fg(level_color(level))
        .add_modifier(Modifier::BOLD);
    Cell::styled(level.as_str().to_uppercase(), style)
}

fn paused_cell(paused: bool) -> Cell {
    if paused {
        let style = Style::default()
            .fg(Color::Yellow)
            .add_modifier(Modifier::BOLD);
        Cell::styled("yes", style)
    } else {
        Cell::plain("no")
    }
}

fn health_cell(state: HealthState) -> Cell {
    Cell::styled(health_word(state), Style::default().fg(health_color(state)))
}

fn store_row(s: &StoreView) -> Row {
    let breaker = s.breaker.as_deref().unwrap_or("-");
    let breaker_style = match breaker {
        "open" => Style::default().fg(Color::Red),
        "half_open" => Style::default().fg(Color::Yellow),
        _ => Style::default(),
    };
    let util = if s.utilization.is_finite() {
        (s.utilization * 100.0).round().max(0.0)
    } else {
        0.0
    };
    Row {
        cells: vec![
            Cell::plain(s.id.as_str()),
            presence_cell(s.presence),
            level_cell(s.level),
            Cell::plain(format!(
                "{}/{}",
                thousands(s.queue_size),
                thousands(s.capacity)
            )),
            Cell::plain(format!("{util} %")),
            Cell::styled(breaker, breaker_style),
            paused_cell(s.paused),
            health_cell(s.health),
            Cell::plain(s.reason.as_str()),
        ],
        dim: s.presence != Presence::Live,
    }
}

fn pipeline_row(p: &PipelineView) -> Row {
    let rate = if p.bars_per_sec.is_finite() {
        p.bars_per_sec.round().max(0.0) as u64
    } else {
        0
    };
    Row {
        cells: vec![
            Cell::plain(p.id.as_str()),
            Cell::plain(p.provider.as_str()),
            presence_cell(p.presence),
            level_cell(p.level),
            Cell::plain(format!("{:.2}", p.scale)),
            Cell::plain(thousands(rate)),
            Cell::plain(thousands(p.published)),
            Cell::plain(thousands(p.backlog)),
            paused_cell(p.paused),
            health_cell(p.health),
            Cell::plain(p.reason.as_str()),
        ],
        dim: p.presence != Presence::Live,
    }
}

/// Draws the title line and `rows` of a table of `columns` (the last one the reason) on the
/// next lines, leaving out optional columns while the reason would have fewer than
/// [`MIN_REASON`] columns.
fn table(columns: &[Column], rows: &[Row], lines: &mut Lines, buf: &mut Buffer) {
    let area = lines.area;
    let (last, fixed) = columns
        .split_last()
        .map_or((0, &[][..]), |(_, f)| (f.len(), f));
    let mut widths: Vec<Option<u16>> = fixed
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let widest = rows
                .iter()
                .filter_map(|r| r.cells.get(i))
                .map(|cell| width_of(&cell.text))
                .chain([width_of(c.title)])
                .max()
                .unwrap_or(0);
            Some(if i == 0 { widest.min(MAX_ID) } else { widest })
        })
        .collect();
    let used = |widths: &[Option<u16>]| -> u16 {
        widths
            .iter()
            .flatten()
            .fold(0u16, |sum, w| sum.saturating_add(*w).saturating_add(GAP))
    };
    while area.width < used(&widths).saturating_add(MIN_REASON) {
        let next = fixed
            .iter()
            .enumerate()
            .filter(|(i, c)| c.drop.is_some() && widths[*i].is_some())
            .min_by_key(|(_, c)| c.drop)
            .map(|(i, _)| i);
        match next {
            Some(i) => widths[i] = None,
            None => break,
        }
    }
    let title = Row {
        cells: columns.iter().map(|c| Cell::plain(c.title)).collect(),
        dim: false,
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    for (n, row) in std::iter::once(&title).chain(rows).enumerate() {
        let Some(y) = lines.next() else { return };
        let mut x = area.x;
        for (i, cell) in row.cells.iter().enumerate() {
            let mut style = if n == 0 { bold } else { cell.style };
            // The presence of a member that is not live stays bright in its dimmed row.
            if row.dim && columns.get(i).is_some_and(|c| c.title != PRESENCE) {
                style = style.add_modifier(Modifier::DIM);
            }
            if i == last {
                put(buf, x, y, area.right(), &cell.text, style);
                break;
            }
            let Some(w) = widths.get(i).copied().flatten() else {
                continue;
            };
            let text = fit(&cell.text, w);
            let text = match columns[i].align {
                Align::Left => text,
                Align::Right => format!("{text:>width$}", width = usize::from(w)),
            };
            put(buf, x, y, area.right(), &text, style);
            x = x.saturating_add(w).saturating_add(GAP);
            if x >= area.right() {
                break;
            }
        }
    }
}

/// Columns `text` takes (one a character).
fn width_of(text: &str) -> u16 {
    u16::try_from(text.chars().count()).unwrap_or(u16::MAX)
}

/// `text` in at most `width` columns, cut with `…` when longer.
fn fit(text: &str, width: u16) -> String {
    let width = usize::from(width);
    if text.chars().count() <= width {
        text.to_owned()
    } else if width == 0 {
        String::new()
    } else {
        text.chars().take(width - 1).chain(['…']).collect()
    }
}

/// Writes `text` at `x`, `y` in `style`, cut with `…` to the columns before `right`;
/// returns the column after it.
fn put(buf: &mut Buffer, x: u16, y: u16, right: u16, text: &str, style: Style) -> u16 {
    if x >= right {
        return x;
    }
    let room = right - x;
    let (end, _) = buf.set_stringn(x, y, fit(text, room), usize::from(room), style);
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/topology.json");
    /// A moment 0.8 s after the fixture's snapshot.
    const NOW: f64 = 1_733_600_001.8;

    fn fixture() -> ClusterTopology {
        serde_json::from_str(FIXTURE).expect("the fixture decodes")
    }

    fn drawn(
        topology: Option<&ClusterTopology>,
        error: Option<&str>,
        width: u16,
        h: u16,
    ) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, width, h));
        render(topology, NOW, error, buf.area, &mut buf);
        buf
    }

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

    /// The column where `needle` starts on line `y`.
    fn column(buf: &Buffer, y: u16, needle: &str) -> u16 {
        let line: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        let at = line
            .find(needle)
            .unwrap_or_else(|| panic!("{needle} not on {line}"));
        u16::try_from(line[..at].chars().count()).expect("narrow")
    }

    #[test]
    fn the_fixture_at_120_columns() {
        let t = fixture();
        let buf = drawn(Some(&t), None, 120, 20);
        let mut golden = vec![
            "mdp top  cluster mdp (local)  UNHEALTHY  store store-a: hard: queue 96% full (queue_high)",
            "snapshot 0.8 s old  bars backlog 12 000: 11 000 undelivered, 1 000 pending",
            "",
            "store    presence  level         queue  util  breaker  paused  health     reason",
            "store-a  live      HARD   9 600/10 000  96 %  closed   no      unhealthy  hard: queue 96% full (queue_high)",
            "store-b  live      OK       400/10 000   4 %  closed   no      healthy    ok: queue 4% full",
            "",
            "pipeline    provider   presence  level  scale  bars/s  published  backlog  paused  health    reason",
            "pipeline-1  synthetic  live      HARD    0.00       0    230 000   12 000  no      degraded  held by backpressure (hard…",
            "pipeline-2  synthetic  stale     SOFT    0.50   2 451    110 000   12 000  no      degraded  silent for 11.0 s (stale a…",
        ];
        golden.resize(20, "");
        assert_eq!(text(&buf), golden);
        assert_eq!(height(Some(&t)), 10);

        let unhealthy = buf[(column(&buf, 0, "UNHEALTHY"), 0)].clone();
        assert_eq!(unhealthy.fg, Color::Red);
        assert!(unhealthy.modifier.contains(Modifier::BOLD));
        let hard = &buf[(column(&buf, 4, "HARD"), 4)];
        assert_eq!(hard.fg, Color::Red);
        assert!(!hard.modifier.contains(Modifier::DIM), "store-a is live");
        assert_eq!(buf[(column(&buf, 5, "OK"), 5)].fg, Color::Green);

        // pipeline-2 is stale: its row is dimmed, its presence marked in yellow.
        let id = &buf[(0, 9)];
        assert!(id.modifier.contains(Modifier::DIM), "{id:?}");
        let soft = &buf[(column(&buf, 9, "SOFT"), 9)];
        assert_eq!(soft.fg, Color::Yellow);
        assert!(soft.modifier.contains(Modifier::DIM));
        let stale = &buf[(column(&buf, 9, "stale"), 9)];
        assert_eq!(stale.fg, Color::Yellow);
        assert!(!stale.modifier.contains(Modifier::DIM));
        assert!(
            !buf[(0, 8)].modifier.contains(Modifier::DIM),
            "pipeline-1 is live"
        );
    }

    #[test]
    fn at_80_columns_reasons_are_cut_and_optional_columns_left_out() {
        let t = fixture();
        let buf = drawn(Some(&t), None, 80, 10);
        assert_eq!(
            text(&buf),
            [
                "mdp top  cluster mdp (local)  UNHEALTHY  store store-a: hard: queue 96% full (q…",
                "snapshot 0.8 s old  bars backlog 12 000: 11 000 undelivered, 1 000 pending",
                "",
                "store    presence  level         queue  util  health     reason",
                "store-a  live      HARD   9 600/10 000  96 %  unhealthy  hard: queue 96% full (…",
                "store-b  live      OK       400/10 000   4 %  healthy    ok: queue 4% full",
                "",
                "pipeline    presence  level  scale  bars/s  health    reason",
                "pipeline-1  live      HARD    0.00       0  degraded  held by backpressure (har…",
                "pipeline-2  stale     SOFT    0.50   2 451  degraded  silent for 11.0 s (stale …",
            ]
        );
    }

    #[test]
    fn narrow_or_short_areas_are_cut_without_panicking() {
        let t = fixture();
        for (width, h) in [(0, 0), (1, 1), (10, 3), (40, 5), (60, 30), (300, 12)] {
            let buf = drawn(Some(&t), Some("boom"), width, h);
            assert_eq!(buf.area, Rect::new(0, 0, width, h));
        }
        // Drawn into a part of a larger buffer, nothing is written outside it.
        let mut buf = Buffer::empty(Rect::new(0, 0, 50, 6));
        let area = Rect::new(5, 1, 30, 3);
        render(Some(&t), NOW, None, area, &mut buf);
        for y in 0..6 {
            for x in 0..50 {
                if !area.contains((x, y).into()) {
                    assert_eq!(buf[(x, y)].symbol(), " ", "({x}, {y}) drawn");
                }
            }
        }
    }

    #[test]
    fn an_empty_topology_says_nobody_was_heard_from() {
        let t: ClusterTopology =
            serde_json::from_str(r#"{"cluster_id":{"value":"mdp"},"region":{"name":"local"}}"#)
                .expect("decodes");
        assert_eq!(height(Some(&t)), 6);
        let buf = drawn(Some(&t), None, 80, 6);
        assert_eq!(
            text(&buf),
            [
                "mdp top  cluster mdp (local)  health unknown",
                "snapshot of unknown age  bars backlog unknown",
                "",
                "no store heard from yet",
                "",
                "no pipeline heard from yet",
            ]
        );
        assert!(buf[(0, 3)].modifier.contains(Modifier::DIM));
    }

    #[test]
    fn the_error_of_the_last_fetch_is_on_the_status_line() {
        let t = fixture();
        let error = "cannot reach the orchestrator at http://127.0.0.1:9: Connection refused (os error 111)";
        let buf = drawn(Some(&t), Some(error), 120, 10);
        let status = &text(&buf)[1];
        assert_eq!(
            status,
            "error: cannot reach the orchestrator at http://127.0.0.1:9: Connection refused \
             (os error 111)  snapshot 0.8 s old"
        );
        assert_eq!(buf[(0, 1)].fg, Color::Red);
        assert_eq!(buf[(column(&buf, 1, "snapshot"), 1)].fg, Color::Reset);
        assert_eq!(text(&buf)[4].split_whitespace().next(), Some("store-a"));

        let none = drawn(None, Some(error), 60, 2);
        assert_eq!(
            text(&none),
            [
                "mdp top  no snapshot yet",
                "error: cannot reach the orchestrator at http://127.0.0.1:9:…",
            ]
        );
        assert_eq!(height(None), 2);
    }

    #[test]
    fn ages_are_said_in_their_unit() {
        for (secs, said) in [
            (-3.0, "0.0 s"),
            (0.84, "0.8 s"),
            (59.9, "59.9 s"),
            (61.0, "1 min"),
            (7_300.0, "2 h"),
            (400.0 * 86_400.0, "400 d"),
            (f64::NAN, "0.0 s"),
        ] {
            assert_eq!(age(secs), said);
        }
    }

    #[test]
    fn gone_and_left_members_are_marked() {
        let mut t = fixture();
        t.stores[1].presence = Presence::Gone;
        t.pipelines[0].presence = Presence::Left;
        let buf = drawn(Some(&t), None, 120, 10);
        let gone = &buf[(column(&buf, 5, "gone"), 5)];
        assert_eq!(gone.fg, Color::Red);
        assert!(gone.modifier.contains(Modifier::BOLD));
        assert!(buf[(0, 5)].modifier.contains(Modifier::DIM));
        let left = &buf[(column(&buf, 8, "left"), 8)];
        assert!(left.modifier.contains(Modifier::BOLD));
        assert!(buf[(0, 8)].modifier.contains(Modifier::DIM));
    }
}
