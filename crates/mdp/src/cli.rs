//! The command line: `mdp run`, `mdp store`, `mdp pipeline`, `mdp pulse ...` and
//! `mdp replay-dead-letters`, with their flags (each flag also documented in `--help`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The market-data platform: a store and a pipeline joined by end-to-end backpressure.
#[derive(Debug, Parser)]
#[command(name = "mdp", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// After SIGINT/SIGTERM, how long a command may go on writing what it holds before it
    /// stops anyway: what is still unwritten then stays pending on the bus (services) or goes
    /// to the dead-letter file (`run`), and the exit code is 3.
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        env = "MDP_SHUTDOWN_GRACE_SEC",
        default_value_t = 30.0,
        value_parser = parse_grace
    )]
    pub shutdown_grace: f64,
}

impl Cli {
    /// The shutdown grace period.
    pub fn grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.shutdown_grace)
    }
}

/// Seconds > 0 and finite.
fn parse_grace(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs < 1e9 => Ok(secs),
        _ => Err(format!("expected seconds > 0, got {text:?}")),
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole loop in one process: pipeline -> store -> sink, feedback back over Pulse.
    Run(RunArgs),
    /// The store service: consumes bars from the bus and writes them to the sink.
    Store(StoreArgs),
    /// The pipeline service: produces bars at the rate the stores allow and publishes them.
    Pipeline(PipelineArgs),
    /// Inspect the Pulse bus: tail a stream, list or replay dead letters, stream statistics.
    Pulse(PulseArgs),
    /// Writes the bars of a store dead-letter file (NDJSON) to the sink; keeps what fails.
    ReplayDeadLetters(ReplayArgs),
}

/// Which Pulse backend carries the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BusKind {
    /// One shared in-process bus (only within one process).
    Inmem,
    /// Redis Streams at `REDIS_URL`.
    Redis,
}

/// Flags of the store side, shared by `run` and `store`.
#[derive(Debug, Clone, Args)]
pub struct StoreFlags {
    /// Sink URL: sqlite://PATH, postgres://..., or memory:// (default: `DATABASE_URL`, else
    /// sqlite://mdp.db).
    #[arg(long, value_name = "URL")]
    pub sink: Option<String>,
    /// Limits the sink to this many bars per second (a slow sink for demonstrations: the
    /// feedback loop then visibly slows the pipeline down).
    #[arg(long, value_name = "BARS_PER_SEC")]
    pub sink_rate: Option<f64>,
    /// Where batches that cannot be written are kept (NDJSON, replay with
    /// `mdp replay-dead-letters`).
    #[arg(
        long,
        value_name = "FILE",
        env = "MDP_DEAD_LETTER_FILE",
        default_value = "mdp-dead-letters.ndjson"
    )]
    pub dead_letter_file: PathBuf,
    /// Coordinator id in feedback events and metrics (default: `store-<pid>-<random>`; in
    /// `run`: `mdp-run`).
    #[arg(long, value_name = "ID", env = "MDP_COORD_ID")]
    pub coord_id: Option<String>,
}

/// Flags of the pipeline side, shared by `run` and `pipeline`.
#[derive(Debug, Clone, Args)]
pub struct PipelineFlags {
    /// Stop after this many bars.
    #[arg(long, value_name = "N", conflicts_with = "duration")]
    pub bars: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Replay bars from this CSV file (provider,symbol,resolution,ts,open,high,low,close,
    /// volume[,delayed]) instead of the synthetic source.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Base rate of the pipeline in bars per second (default: `MDP_RATE_REFILL_PER_SEC`, 60);
    /// feedback scales it down.
    #[arg(long, value_name = "BARS_PER_SEC")]
    pub rate: Option<f64>,
}

/// `mdp run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Pipeline flags.
    #[command(flatten)]
    pub pipeline: PipelineFlags,
    /// Store flags.
    #[command(flatten)]
    pub store: StoreFlags,
    /// Pulse backend of the feedback loop (default: `EVENT_BUS_BACKEND`, else inmem).
    #[arg(long, value_enum)]
    pub bus: Option<BusKind>,
    /// Serve /metrics and /health on this port (0 = a free port, printed at start).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Print the final summary as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `mdp store`.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Store flags.
    #[command(flatten)]
    pub store: StoreFlags,
    /// Pulse backend (default: `EVENT_BUS_BACKEND`; the services need redis).
    #[arg(long, value_enum)]
    pub bus: Option<BusKind>,
    /// Serve /metrics, /health, /healthz and /readyz on this port (0 = a free port).
    #[arg(
        long,
        value_name = "PORT",
        env = "MDP_STORE_PORT",
        default_value_t = 8081
    )]
    pub port: u16,
    /// Consumer name in group `store` (default: `store-<pid>-<random>`).
    #[arg(long, value_name = "NAME", env = "MDP_STORE_CONSUMER_NAME")]
    pub consumer: Option<String>,
}

/// `mdp pipeline`.
#[derive(Debug, Clone, Args)]
pub struct PipelineArgs {
    /// Pipeline flags.
    #[command(flatten)]
    pub pipeline: PipelineFlags,
    /// Pulse backend (default: `EVENT_BUS_BACKEND`; the services need redis).
    #[arg(long, value_enum)]
    pub bus: Option<BusKind>,
    /// Serve /metrics, /health, /healthz and /readyz on this port (0 = a free port).
    #[arg(
        long,
        value_name = "PORT",
        env = "MDP_PIPELINE_PORT",
        default_value_t = 8082
    )]
    pub port: u16,
    /// Remembers how many bars were published, so that a restarted pipeline resumes after
    /// them instead of starting over.
    #[arg(long, value_name = "FILE", env = "MDP_PIPELINE_CHECKPOINT")]
    pub checkpoint: Option<PathBuf>,
}

/// `mdp pulse`.
#[derive(Debug, Clone, Args)]
pub struct PulseArgs {
    /// What to inspect.
    #[command(subcommand)]
    pub command: PulseCommand,
}

/// The `mdp pulse` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum PulseCommand {
    /// Prints the entries of a stream as they arrive (one JSON line each).
    Tail {
        /// Stream name without the namespace, e.g. telemetry.feedback or marketdata.bars.
        stream: String,
        /// Start with the last N entries already in the stream.
        #[arg(long, default_value_t = 10)]
        last: usize,
        /// Stop after printing this many entries.
        #[arg(long)]
        count: Option<usize>,
    },
    /// Dead letters of a stream.
    Dlq {
        /// List or replay.
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Length, dead letters and pending entries of the known streams.
    Stats,
}

/// The `mdp pulse dlq` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum DlqCommand {
    /// Lists dead letters (one JSON line each).
    List {
        /// Stream name without the namespace.
        stream: String,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        count: usize,
    },
    /// Publishes dead letters back to their stream and removes them from the DLQ.
    Replay {
        /// Stream name without the namespace.
        stream: String,
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
}

/// `mdp replay-dead-letters`.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// The store's dead-letter file.
    pub file: PathBuf,
    /// Sink URL (default: `DATABASE_URL`, else sqlite://mdp.db).
    #[arg(long, value_name = "URL")]
    pub sink: Option<String>,
}
