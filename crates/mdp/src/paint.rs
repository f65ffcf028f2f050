//! Writes a ratatui buffer to a terminal below the cursor and redraws it in place: each frame
//! moves the cursor up over the last one and rewrites its lines, so the view stays in the
//! scrollback-free bottom of the screen without taking the whole screen. Colours are ANSI
//! escapes, left out when `NO_COLOR` is set ([`color_wanted`]). Shared by the views of
//! `mdp run` and `mdp top`.

use std::fmt::Write as _;
use std::io::{self, Write};

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

/// Whether colours are wanted: `NO_COLOR` is unset or empty.
pub(crate) fn color_wanted() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Draws frames on `out`, each over the one before.
#[derive(Debug)]
pub(crate) struct Painter<W: Write> {
    out: W,
    drawn: u16,
    color: bool,
}

impl<W: Write> Painter<W> {
    /// A painter on `out`, in colour when `color` is set.
    pub(crate) fn new(out: W, color: bool) -> Self {
        Self {
            out,
            drawn: 0,
            color,
        }
    }

    /// Writes `buf`, over the frame before if there was one; the cursor is left on the line
    /// below it. What a taller frame before left below this one is cleared.
    pub(crate) fn paint(&mut self, buf: &Buffer) -> io::Result<()> {
        let mut text = String::new();
        if self.drawn > 0 {
            let _ = write!(text, "\x1b[{}A", self.drawn);
        }
        for y in 0..buf.area.height {
            text.push_str("\r\x1b[2K");
            text.push_str(&row(buf, y, self.color));
            text.push('\n');
        }
        if buf.area.height < self.drawn {
            text.push_str("\x1b[J");
        }
        self.drawn = buf.area.height;
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }

    /// What was written so far.
    #[cfg(test)]
    pub(crate) fn into_inner(self) -> W {
        self.out
    }
}

/// Row `y` of `buf` as text with ANSI colours, without trailing blanks.
pub(crate) fn row(buf: &Buffer, y: u16, color: bool) -> String {
    let mut cells: Vec<(&str, Option<String>)> = (0..buf.area.width)
        .map(|x| {
            let cell = &buf[(buf.area.x + x, buf.area.y + y)];
            (cell.symbol(), sgr(cell.fg, cell.modifier))
        })
        .collect();
    while cells.last().is_some_and(|(s, _)| s.trim().is_empty()) {
        cells.pop();
    }
    let mut out = String::new();
    let mut current: Option<String> = None;
    for (symbol, style) in cells {
        let style = if color { style } else { None };
        if style != current {
            if current.is_some() {
                out.push_str("\x1b[0m");
            }
            if let Some(code) = &style {
                let _ = write!(out, "\x1b[{code}m");
            }
            current = style;
        }
        out.push_str(symbol);
    }
    if current.is_some() {
        out.push_str("\x1b[0m");
    }
    out
}

/// The SGR parameters of a foreground colour and the bold and dim modifiers, `None` for plain
/// text.
fn sgr(fg: Color, modifier: Modifier) -> Option<String> {
    let color = match fg {
        Color::Red => Some("31".to_owned()),
        Color::Green => Some("32".to_owned()),
        Color::Yellow => Some("33".to_owned()),
        Color::Blue => Some("34".to_owned()),
        Color::Magenta => Some("35".to_owned()),
        Color::Cyan => Some("36".to_owned()),
        Color::Gray => Some("37".to_owned()),
        Color::DarkGray => Some("90".to_owned()),
        Color::Indexed(i) => Some(format!("38;5;{i}")),
        Color::Rgb(r, g, b) => Some(format!("38;2;{r};{g};{b}")),
        _ => None,
    };
    let codes: Vec<String> = [
        modifier.contains(Modifier::BOLD).then(|| "1".to_owned()),
        modifier.contains(Modifier::DIM).then(|| "2".to_owned()),
        color,
    ]
    .into_iter()
    .flatten()
    .collect();
    (!codes.is_empty()).then(|| codes.join(";"))
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    use super::*;

    fn buffer() -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 2));
        buf.set_string(0, 0, "level ", Style::default());
        buf.set_string(
            6,
            0,
            "HARD",
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        );
        buf.set_string(0, 1, "queue", Style::default());
        buf
    }

    #[test]
    fn a_row_is_its_text_with_colours_and_no_trailing_blanks() {
        let buf = buffer();
        assert_eq!(row(&buf, 0, true), "level \x1b[1;31mHARD\x1b[0m");
        assert_eq!(row(&buf, 0, false), "level HARD");
        assert_eq!(row(&buf, 1, true), "queue");
    }

    #[test]
    fn each_frame_is_drawn_over_the_one_before() {
        let mut painter = Painter::new(Vec::new(), false);
        painter.paint(&buffer()).expect("paint");
        painter.paint(&buffer()).expect("paint");
        let out = String::from_utf8(painter.into_inner()).expect("utf-8");
        let frame = "\r\x1b[2Klevel HARD\n\r\x1b[2Kqueue\n";
        assert_eq!(out, format!("{frame}\x1b[2A{frame}"));
    }

    #[test]
    fn a_shorter_frame_clears_what_the_taller_one_left() {
        let mut painter = Painter::new(Vec::new(), false);
        painter.paint(&buffer()).expect("paint");
        let mut short = Buffer::empty(Rect::new(0, 0, 12, 1));
        short.set_string(0, 0, "gone", Style::default());
        painter.paint(&short).expect("paint");
        let out = String::from_utf8(painter.into_inner()).expect("utf-8");
        assert!(out.ends_with("\x1b[2A\r\x1b[2Kgone\n\x1b[J"), "{out:?}");
    }

    #[test]
    fn dim_text_has_its_own_code() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        let dim = Style::default().fg(Color::Red).add_modifier(Modifier::DIM);
        buf.set_string(0, 0, "old", dim);
        assert_eq!(row(&buf, 0, true), "\x1b[2;31mold\x1b[0m");
    }
}
