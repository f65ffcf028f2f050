//! Showing frames: one printed as lines of text (`--once`), or one a period painted over the
//! last until SIGINT or SIGTERM ([`watch`]). A fetch that fails keeps the last snapshot on
//! screen with the error on its status line, and the next period tries again.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use core_contracts::ClusterTopology;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use tokio::time::MissedTickBehavior;

use super::fetch::Orchestrator;
use super::render;
use crate::error_line::error_line;
use crate::paint::{self, Painter};

/// Columns of a frame when stdout is not a terminal.
pub(super) const PLAIN_WIDTH: u16 = 120;

/// The time now, Unix epoch seconds.
pub(super) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The columns and lines a frame may take on stdout: those of its terminal less one each (a
/// full last column makes some terminals wrap, a full last line scrolls), else
/// [`PLAIN_WIDTH`] and no limit.
pub(super) fn size() -> (u16, u16) {
    terminal_size::terminal_size_of(io::stdout()).map_or((PLAIN_WIDTH, u16::MAX), |(w, h)| {
        (w.0.saturating_sub(1).max(1), h.0.saturating_sub(1).max(1))
    })
}

/// The frame of `topology`, `width` columns wide and as tall as it needs up to `rows`.
fn frame(
    topology: Option<&ClusterTopology>,
    now: f64,
    error: Option<&str>,
    width: u16,
    rows: u16,
) -> Buffer {
    let area = Rect::new(0, 0, width, render::height(topology).min(rows));
    let mut buf = Buffer::empty(area);
    render::render(topology, now, error, area, &mut buf);
    buf
}

/// Writes every line of `buf` to `out` as text, in ANSI colours when `color` is set.
fn write_text(buf: &Buffer, color: bool, out: &mut impl Write) -> io::Result<()> {
    let mut text = String::new();
    for y in 0..buf.area.height {
        text.push_str(&paint::row(buf, y, color));
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Fetches one snapshot from `orchestrator` and writes its whole frame, `width` columns wide,
/// to `out` as text (in colour when `color` is set); `now` tells the time after the fetch.
pub(super) async fn print_once(
    orchestrator: &Orchestrator,
    now: impl FnOnce() -> f64,
    width: u16,
    color: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let topology = orchestrator.fetch().await?;
    let buf = frame(Some(&topology), now(), None, width, u16::MAX);
    write_text(&buf, color, out)?;
    Ok(())
}

/// The frames of one orchestrator: the last snapshot and the error of the last fetch.
#[derive(Debug)]
struct Watch {
    orchestrator: Orchestrator,
    last: Option<ClusterTopology>,
}

impl Watch {
    /// Fetches a snapshot and draws the frame, `width` columns wide and up to `rows` tall:
    /// of the new snapshot, or of the last one with the error when the fetch failed.
    async fn next_frame(&mut self, now: impl FnOnce() -> f64, width: u16, rows: u16) -> Buffer {
        let error = match self.orchestrator.fetch().await {
            Ok(topology) => {
                self.last = Some(topology);
                None
            }
            Err(error) => Some(error_line(&error)),
        };
        frame(self.last.as_ref(), now(), error.as_deref(), width, rows)
    }
}

/// Fetches and draws a frame every `every` until SIGINT or SIGTERM: painted over the last one
/// when stdout is a terminal (in colour when `color` is set), else printed as plain text
/// followed by a blank line. A closed stdout ends it quietly.
pub(super) async fn watch(
    orchestrator: Orchestrator,
    every: Duration,
    color: bool,
) -> anyhow::Result<()> {
    let terminal = io::stdout().is_terminal();
    let mut painter = Painter::new(io::stdout(), color && terminal);
    let mut watch = Watch {
        orchestrator,
        last: None,
    };
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stop = crate::shutdown::signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = ticker.tick() => {}
        }
        let (width, rows) = size();
        let buf = tokio::select! {
            _ = &mut stop => return Ok(()),
            buf = watch.next_frame(now, width, rows) => buf,
        };
        let shown = if terminal {
            painter.paint(&buf)
        } else {
            let mut out = io::stdout();
            write_text(&buf, false, &mut out).and_then(|()| writeln!(out))
        };
        match shown {
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
            shown => shown?,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;

    use super::*;

    const FIXTURE: &str = include_str!("../../../tests/fixtures/topology.json");
    /// 0.8 s after the fixture's snapshot.
    fn now() -> f64 {
        1_733_600_001.8
    }

    /// Serves the fixture at `/api/topology` on a free local port while `up` is set, 503
    /// otherwise.
    async fn orchestrator(up: Arc<AtomicBool>) -> SocketAddr {
        let app = Router::new().route(
            "/api/topology",
            get(move || {
                let up = up.load(Ordering::SeqCst);
                async move {
                    if up {
                        (StatusCode::OK, FIXTURE)
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "down")
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    #[tokio::test]
    async fn once_prints_the_frame_of_the_snapshot() {
        let addr = orchestrator(Arc::new(AtomicBool::new(true))).await;
        let source = Orchestrator::new(&format!("http://{addr}/")).expect("a URL");
        assert_eq!(
            source.endpoint().as_str(),
            format!("http://{addr}/api/topology")
        );
        let mut out = Vec::new();
        print_once(&source, now, 120, false, &mut out)
            .await
            .expect("one frame");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10, "{text}");
        assert_eq!(
            lines[..2],
            [
                "mdp top  cluster mdp (local)  UNHEALTHY  store store-a: hard: queue 96% full \
                 (queue_high)",
                "snapshot 0.8 s old  bars backlog 12 000: 11 000 undelivered, 1 000 pending",
            ]
        );
        assert!(lines[4].starts_with("store-a  live      HARD"), "{text}");
        assert!(
            lines[9].starts_with("pipeline-2  synthetic  stale"),
            "{text}"
        );
        assert!(
            !text.contains('\x1b'),
            "no escapes without colour: {text:?}"
        );

        let mut colored = Vec::new();
        print_once(&source, now, 120, true, &mut colored)
            .await
            .expect("one frame");
        let colored = String::from_utf8(colored).expect("utf-8");
        assert!(
            colored.contains("\x1b[1;31mUNHEALTHY\x1b[0m"),
            "{colored:?}"
        );
        assert!(!colored.contains("\x1b[2K"), "printed, not painted");
    }

    #[tokio::test]
    async fn once_against_a_closed_port_names_the_url_and_the_cause() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        drop(listener);
        let source = Orchestrator::new(&format!("http://{addr}")).expect("a URL");
        let mut out = Vec::new();
        let error = print_once(&source, now, 120, false, &mut out)
            .await
            .expect_err("nobody listens");
        let line = error_line(&error);
        assert!(
            line.starts_with(&format!("cannot reach the orchestrator at http://{addr}: ")),
            "{line}"
        );
        assert!(line.to_lowercase().contains("refused"), "{line}");
        assert!(!line.contains('\n'));
        assert!(out.is_empty());
    }

    #[test]
    fn what_is_not_an_http_url_is_refused_at_once() {
        for url in ["127.0.0.1:8080", "ftp://host", "not a url"] {
            let error = Orchestrator::new(url).expect_err(url);
            let line = error_line(&error);
            assert!(
                line.contains(url) && line.contains("MDP_ORCHESTRATOR_URL"),
                "{line}"
            );
        }
    }

    #[tokio::test]
    async fn a_failed_fetch_keeps_the_last_snapshot_with_the_error() {
        let up = Arc::new(AtomicBool::new(true));
        let addr = orchestrator(Arc::clone(&up)).await;
        let orchestrator = Orchestrator::new(&format!("http://{addr}")).expect("a URL");
        let mut watch = Watch {
            orchestrator,
            last: None,
        };
        let first = watch.next_frame(now, 130, 40).await;
        assert_eq!(first.area, Rect::new(0, 0, 130, 10));
        assert!(paint::row(&first, 1, false).starts_with("snapshot 0.8 s old  bars backlog"));

        up.store(false, Ordering::SeqCst);
        let second = watch.next_frame(|| now() + 2.0, 130, 8).await;
        assert_eq!(second.area, Rect::new(0, 0, 130, 8), "cut to the rows");
        assert_eq!(
            paint::row(&second, 1, false),
            format!(
                "error: the orchestrator at http://{addr}/api/topology answered 503 Service \
                 Unavailable  snapshot 2.8 s old"
            )
        );
        assert!(paint::row(&second, 4, false).starts_with("store-a"));
    }
}
