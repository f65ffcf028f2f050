//! `mdp top`: the topology of a running system as the orchestrator sees it, fetched from
//! `GET <url>/api/topology` every `--every` seconds and redrawn in place on the terminal
//! until Ctrl-C, or printed once with `--once`. [`render`] draws a frame, [`screen`] shows
//! frames, [`fetch`] gets the snapshots.

mod fetch;
mod render;
mod screen;

use std::io::{self, IsTerminal};
use std::time::Duration;

use anyhow::Context;

use crate::cli::TopArgs;
use crate::paint;

/// Runs `mdp top`: with `--once`, prints one frame (as plain text unless stdout is a
/// terminal and `NO_COLOR` is unset) and fails when the orchestrator cannot be reached;
/// otherwise redraws a frame every `--every` seconds until SIGINT or SIGTERM, showing a
/// failed fetch on the frame's status line and trying again.
pub async fn run_top(args: TopArgs) -> anyhow::Result<()> {
    let orchestrator = fetch::Orchestrator::new(&args.orchestrator.url)?;
    let color = paint::color_wanted() && io::stdout().is_terminal();
    if args.once {
        let (width, _) = screen::size();
        return screen::print_once(&orchestrator, screen::now, width, color, &mut io::stdout())
            .await;
    }
    let every = Duration::try_from_secs_f64(args.every)
        .with_context(|| format!("--every {} is not a period", args.every))?;
    screen::watch(orchestrator, every, color).await
}
