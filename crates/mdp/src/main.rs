//! The `mdp` binary: `mdp run` (the whole loop in one process), the `store` and `pipeline`
//! services, Pulse inspection and dead-letter replay. Errors are reported with their
//! context and a non-zero exit status.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mdp::cli::{Cli, Command};
use mdp::{run, services, tools};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Run(_) | Command::Pulse(_) => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mdp: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let grace = cli.grace();
    match runtime.block_on(dispatch(cli.command, grace)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("mdp: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exit status of a command that stopped with bars it did not write: left pending on the bus
/// (services) or put in the dead-letter file (`run`).
const UNFINISHED: u8 = 3;

async fn dispatch(command: Command, grace: Duration) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => {
            let json = args.json;
            let summary = run::run(args, grace).await?;
            if json {
                println!("{}", serde_json::to_string(&summary)?);
            } else {
                print!("{summary}");
            }
            if summary.dropped > 0 || summary.dead_lettered > 0 {
                eprintln!(
                    "mdp: {} bars were dead-lettered to {} (replay them with `mdp \
                     replay-dead-letters`) and {} lost",
                    summary.dead_lettered, summary.dead_letter_file, summary.dropped
                );
                return Ok(ExitCode::from(UNFINISHED));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Store(args) => Ok(unfinished(services::run_store(args, grace).await?)),
        Command::Pipeline(args) => services::run_pipeline(args, grace)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Pulse(args) => tools::run_pulse(args).await.map(|()| ExitCode::SUCCESS),
        Command::ReplayDeadLetters(args) => tools::replay_dead_letters(args)
            .await
            .map(|()| ExitCode::SUCCESS),
    }
}

/// Success, or [`UNFINISHED`] when `left` bars were not written.
fn unfinished(left: u64) -> ExitCode {
    if left == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(UNFINISHED)
    }
}
