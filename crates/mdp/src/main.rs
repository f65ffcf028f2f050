//! The `mdp` binary: `mdp run` (the whole loop in one process), the `store` and `pipeline`
//! services, the orchestrator with its client `ctl` and its terminal view `top`, Pulse
//! inspection, dead-letter replay and shell completions. Errors are reported in one line
//! with their causes (and as a JSON object under `run --json`) and a non-zero exit status:
//! 1 for a failure (bad settings included, or a command a member refused), 2 for bad
//! flags, `RUST_LOG` or `LOG_FORMAT`, 3 for bars left unwritten.

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use mdp::cli::{Cli, Command};
use mdp::error_line::error_line;
use mdp::{logging, orchestrator, run, services, tools};

/// Exit status of a command that stopped with bars it did not write: left pending on the bus
/// (services) or put in the dead-letter file (`run`).
const UNFINISHED: u8 = 3;
/// Exit status of a bad `RUST_LOG` or `LOG_FORMAT` (as clap's for bad flags).
const BAD_SETTINGS: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Run(_)
        | Command::Pulse(_)
        | Command::Ctl(_)
        | Command::Top(_)
        | Command::Completions { .. } => "warn",
        _ => "info",
    };
    if let Err(error) = logging::init(default_level) {
        eprintln!("mdp: error: {error}");
        return ExitCode::from(BAD_SETTINGS);
    }
    let json = matches!(&cli.command, Command::Run(args) if args.json);
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
            let line = error_line(&error);
            if json {
                println!("{}", serde_json::json!({ "error": line }));
            }
            eprintln!("mdp: error: {line}");
            ExitCode::FAILURE
        }
    }
}

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
            if let Some(error) = &summary.error {
                eprintln!("mdp: error: {error}");
                return Ok(ExitCode::FAILURE);
            }
            if summary.dropped > 0 || summary.dead_lettered > 0 {
                eprintln!(
                    "mdp: {} bars were dead-lettered to {} (replay them with mdp \
                     replay-dead-letters) and {} lost",
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
        Command::Orchestrator(args) => orchestrator::run_orchestrator(args, grace)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Ctl(args) => Ok(if tools::run_ctl(args).await? {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }),
        Command::Top(args) => tools::run_top(args).await.map(|()| ExitCode::SUCCESS),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mdp", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
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
