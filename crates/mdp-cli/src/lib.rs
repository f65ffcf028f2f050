//! The command line of `mdp`: `mdp run`, `mdp store`, `mdp pipeline`, `mdp pulse ...`,
//! `mdp replay-dead-letters`, `mdp orchestrator`, `mdp ctl`, `mdp top` and
//! `mdp completions`, with their flags (each flag also documented in `--help`). Help
//! texts speak to users: what a command does, an example, and where the environment
//! variables are documented.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The commit this build was made from (`unknown` outside a git checkout).
pub const COMMIT: &str = env!("MDP_COMMIT");

/// `mdp --version`: the version and the commit it was built from.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("MDP_COMMIT"),
    ")"
);

/// A market-data store and pipeline joined by end-to-end backpressure: when the store falls
/// behind, every pipeline feeding it slows down, pauses and speeds up again, without losing
/// a bar.
#[derive(Debug, Parser)]
#[command(
    name = "mdp",
    version = VERSION_LINE,
    after_help = "Start with: mdp run\n\nSettings come from flags and environment variables; \
                  every variable is listed in docs/operations.md."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// After SIGINT/SIGTERM, how long a command may go on writing what it holds before it
    /// stops anyway: what is still unwritten then stays pending on the bus (services) or goes
    /// to the dead-letter file (run), and the exit code is 3.
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        env = "MDP_SHUTDOWN_GRACE_SEC",
        default_value_t = 30.0,
        allow_negative_numbers = true,
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

/// A positive finite number (rates, seconds).
fn parse_positive(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 && value < 1e12 => Ok(value),
        _ => Err(format!("expected a number > 0, got {text:?}")),
    }
}

/// A whole number of bars > 0.
fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("expected a whole number of bars > 0, got {text:?}")),
    }
}

/// Seconds >= 0 and finite (0 turns the thing off).
fn parse_period(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if (0.0..1e9).contains(&secs) => Ok(secs),
        _ => Err(format!("expected seconds >= 0 (0 = off), got {text:?}")),
    }
}

/// An address to listen on: `IP:PORT` (`0.0.0.0:8081`, `127.0.0.1:0`, `[::1]:9000`).
fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.trim()
        .parse::<SocketAddr>()
        .map_err(|_| format!("expected IP:PORT such as 127.0.0.1:8081 or [::]:8081, got {text:?}"))
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the whole loop in one process: a pipeline feeding a store, the store's feedback
    /// slowing the pipeline down when the sink falls behind; prints a summary at the end.
    /// With no rate given it is a 20 s demo: a trading day with bursts of up to five times
    /// what the sink takes, into a sink held to 2000 bars/s.
    #[command(after_help = concat!(
        "Examples:\n  mdp run\n  mdp run --sink-rate 2000 --rate 5000 --duration 20\n  \
         mdp run --csv bars.csv --sink postgres://user@db-host/marketdata\n\n",
        "Settings come from flags and environment variables; every variable is listed in \
         docs/operations.md."
    ))]
    Run(RunArgs),
    /// Runs a store: takes bars from the bus (Redis), writes them to the sink and tells the
    /// pipelines how full it is. Several stores share the work.
    #[command(after_help = concat!(
        "Example:\n  EVENT_BUS_BACKEND=redis REDIS_URL=redis://127.0.0.1:6379 \
         mdp store --sink postgres://user@db-host/marketdata\n\n",
        "Settings come from flags and environment variables; every variable is listed in \
         docs/operations.md."
    ))]
    Store(StoreArgs),
    /// Runs a pipeline: produces bars (synthetic or from a CSV file) and publishes them on
    /// the bus at the rate the stores allow.
    #[command(after_help = concat!(
        "Example:\n  EVENT_BUS_BACKEND=redis REDIS_URL=redis://127.0.0.1:6379 \
         mdp pipeline --csv bars.csv --rate 5000\n\n",
        "Settings come from flags and environment variables; every variable is listed in \
         docs/operations.md."
    ))]
    Pipeline(PipelineArgs),
    /// Looks into the bus: follow a stream, list or replay its dead letters, print stream
    /// statistics.
    #[command(after_help = concat!(
        "Examples:\n  mdp pulse stats\n  mdp pulse tail telemetry.feedback\n  \
         mdp pulse dlq list marketdata.bars\n\n",
        "The bus is the one of EVENT_BUS_BACKEND and REDIS_URL; every variable is listed in \
         docs/operations.md."
    ))]
    Pulse(PulseArgs),
    /// Writes the bars of a store's dead-letter file to the sink; what fails again stays in
    /// the file.
    #[command(after_help = concat!(
        "Example:\n  mdp replay-dead-letters mdp-dead-letters.ndjson --sink sqlite://mdp.db\n\n",
        "Settings come from flags and environment variables; every variable is listed in \
         docs/operations.md."
    ))]
    ReplayDeadLetters(ReplayArgs),
    /// Runs the orchestrator: watches every store and pipeline on the bus (who is there, how
    /// full, how fast, how healthy), serves a live page and its JSON API, and relays pause,
    /// resume and set-rate to them with an audit trail.
    #[command(after_help = concat!(
        "Example:\n  EVENT_BUS_BACKEND=redis REDIS_URL=redis://127.0.0.1:6379 ADMIN_TOKEN=s3cret \
         mdp orchestrator --port 8080\n  then open http://127.0.0.1:8080/\n\n",
        "Settings come from flags and environment variables; every variable is listed in \
         docs/operations.md."
    ))]
    Orchestrator(OrchestratorArgs),
    /// Tells the pipelines and stores what to do, through the orchestrator: pause, resume,
    /// set-rate. Prints each member's answer; exits 1 if one refused or did not answer.
    #[command(after_help = concat!(
        "Examples:\n  mdp ctl pause\n  mdp ctl resume --target pipeline-7\n  \
         mdp ctl set-rate 2500 --target pipeline-7\n\n",
        "The orchestrator is the one of --url (MDP_ORCHESTRATOR_URL); the token is ADMIN_TOKEN. \
         Every variable is listed in docs/operations.md."
    ))]
    Ctl(CtlArgs),
    /// Shows the orchestrator's view in the terminal, redrawn every second: every store and
    /// pipeline with its level, queue, rate and health. Ctrl-C leaves.
    #[command(after_help = concat!(
        "Examples:\n  mdp top\n  mdp top --url http://orchestrator-host:8080 --once\n\n",
        "The orchestrator is the one of --url (MDP_ORCHESTRATOR_URL). Every variable is listed \
         in docs/operations.md."
    ))]
    Top(TopArgs),
    /// Prints a shell completion script.
    #[command(
        after_help = "Examples:\n  mdp completions bash > /etc/bash_completion.d/mdp\n  \
                            mdp completions zsh > \"${fpath[1]}/_mdp\"\n  \
                            mdp completions fish > ~/.config/fish/completions/mdp.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Which Pulse backend carries the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BusKind {
    /// One shared in-process bus (only within one process).
    Inmem,
    /// Redis Streams at REDIS_URL.
    Redis,
}

/// Flags of the store side, shared by `run` and `store`.
#[derive(Debug, Clone, Args)]
pub struct StoreFlags {
    /// Where bars are written: sqlite://PATH, postgres://USER@HOST/DB or memory://
    /// (default: DATABASE_URL, else sqlite://mdp.db).
    #[arg(long, value_name = "URL")]
    pub sink: Option<String>,
    /// Limits the sink to this many bars per second (a slow sink for demonstrations: the
    /// feedback loop then visibly slows the pipeline down). In run: 2000 for the demo;
    /// giving it turns the demo off.
    #[arg(long, value_name = "BARS_PER_SEC", allow_negative_numbers = true,
          value_parser = parse_positive)]
    pub sink_rate: Option<f64>,
    /// Where batches that cannot be written are kept (NDJSON; replay them with
    /// mdp replay-dead-letters).
    #[arg(
        long,
        value_name = "FILE",
        env = "MDP_DEAD_LETTER_FILE",
        default_value = "mdp-dead-letters.ndjson"
    )]
    pub dead_letter_file: PathBuf,
    /// The store's name in feedback events and metrics (default: store-PID-RANDOM; in run:
    /// mdp-run).
    #[arg(long, value_name = "ID", env = "MDP_COORD_ID")]
    pub coord_id: Option<String>,
}

/// What a pipeline does with a CSV row that is not a valid bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OnBadRow {
    /// Stop the run at the first bad row (after writing every bar before it).
    #[default]
    Fail,
    /// Leave the row out, count it and go on.
    Skip,
    /// Keep the row in the bad-rows file (NDJSON: line, reason, row) and go on.
    DeadLetter,
}

/// Flags of the pipeline side, shared by `run` and `pipeline`.
#[derive(Debug, Clone, Args)]
pub struct PipelineFlags {
    /// Stop after this many bars.
    #[arg(long, value_name = "N", conflicts_with = "duration", allow_negative_numbers = true,
          value_parser = parse_count)]
    pub bars: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", allow_negative_numbers = true, value_parser = parse_positive)]
    pub duration: Option<f64>,
    /// Replay bars from this CSV file instead of the synthetic source. The first row must be
    /// a header naming the columns provider,symbol,resolution,ts,open,high,low,close,volume
    /// and optionally delayed, in any order; ts is RFC 3339.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// What to do with a CSV row that is not a valid bar.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnBadRow::Fail)]
    pub on_bad_row: OnBadRow,
    /// Where --on-bad-row dead-letter keeps the bad rows.
    #[arg(
        long,
        value_name = "FILE",
        env = "MDP_BAD_ROWS_FILE",
        default_value = "mdp-bad-rows.ndjson"
    )]
    pub bad_rows_file: PathBuf,
    /// Base rate of the pipeline in bars per second (default: MDP_RATE_REFILL_PER_SEC, 60;
    /// in run, the demo's shape, which giving a rate turns off); feedback scales it down.
    #[arg(long, value_name = "BARS_PER_SEC", allow_negative_numbers = true,
          value_parser = parse_positive)]
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
    /// The bus of the feedback loop (default: EVENT_BUS_BACKEND, else inmem).
    #[arg(long, value_enum)]
    pub bus: Option<BusKind>,
    /// Serve /metrics and /health on this port of 127.0.0.1 (0 = a free port, printed at
    /// start).
    #[arg(long, value_name = "PORT", conflicts_with = "listen")]
    pub port: Option<u16>,
    /// Serve /metrics and /health on this address instead (IP:PORT).
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,
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
    /// The bus (default: EVENT_BUS_BACKEND; a store needs redis, inmem only for trying it
    /// out alone).
    #[arg(long, value_enum)]
    pub bus: Option<BusKind>,
    /// Serve /metrics, /health, /healthz, /readyz and /admin on this port of every interface
    /// (0 = a free port).
    #[arg(
        long,
        value_name = "PORT",
        env = "MDP_STORE_PORT",
        default_value_t = 8081
    )]
    pub port: u16,
    /// Serve them on this address instead (IP:PORT, e.g. 127.0.0.1:8081).
    #[arg(long, value_name = "ADDR", env = "MDP_STORE_LISTEN", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Log a summary line (bars written, rate, level, queue, backlog) this often; 0 = never.
    #[arg(long, value_name = "SECS", env = "MDP_LOG_SUMMARY_SEC", default_value_t = 30.0,
          value_parser = parse_period)]
    pub log_summary_every: f64,
    /// The store's consumer name in the group store (default: store-PID-RANDOM).
    #[arg(long, value_name = "NAME", env = "MDP_STORE_CONSUMER_NAME")]
    pub consumer: Option<String>,
    /// Report this member's state to the orchestrator (on telemetry.health) this often.
    #[arg(long, value_name = "SECS", env = "MDP_STATUS_EVERY_SEC", default_value_t = 1.0,
          value_parser = parse_positive)]
    pub status_every: f64,
}

/// `mdp pipeline`.
#[derive(Debug, Clone, Args)]
pub struct PipelineArgs {
    /// Pipeline flags.
    #[command(flatten)]
    pub pipeline: PipelineFlags,
    /// The bus (default: EVENT_BUS_BACKEND; a pipeline needs redis, inmem only for trying
    /// it out alone).
    #[arg(long, value_enum)]
    pub bus: Option<BusKind>,
    /// Serve /metrics, /health, /healthz and /readyz on this port of every interface (0 = a
    /// free port).
    #[arg(
        long,
        value_name = "PORT",
        env = "MDP_PIPELINE_PORT",
        default_value_t = 8082
    )]
    pub port: u16,
    /// Serve them on this address instead (IP:PORT, e.g. 127.0.0.1:8082).
    #[arg(long, value_name = "ADDR", env = "MDP_PIPELINE_LISTEN", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Log a summary line (bars published, rate, level, scale, backlog) this often; 0 =
    /// never.
    #[arg(long, value_name = "SECS", env = "MDP_LOG_SUMMARY_SEC", default_value_t = 30.0,
          value_parser = parse_period)]
    pub log_summary_every: f64,
    /// The pipeline's id in the orchestrator's topology and in mdp ctl --target (default:
    /// MDP_FB_CONSUMER_NAME, else pipeline-PID-RANDOM).
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Remembers how many bars were published, so that a restarted pipeline resumes after
    /// them instead of starting over.
    #[arg(long, value_name = "FILE", env = "MDP_PIPELINE_CHECKPOINT")]
    pub checkpoint: Option<PathBuf>,
    /// Report this member's state to the orchestrator (on telemetry.health) this often.
    #[arg(long, value_name = "SECS", env = "MDP_STATUS_EVERY_SEC", default_value_t = 1.0,
          value_parser = parse_positive)]
    pub status_every: f64,
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
    /// Where the bars are written (default: DATABASE_URL, else sqlite://mdp.db).
    #[arg(long, value_name = "URL")]
    pub sink: Option<String>,
}

/// `mdp orchestrator`.
#[derive(Debug, Clone, Args)]
pub struct OrchestratorArgs {
    /// The bus (default: EVENT_BUS_BACKEND; the orchestrator needs redis, inmem only for
    /// trying it out alone).
    #[arg(long, value_enum)]
    pub bus: Option<BusKind>,
    /// Serve the page, /api, /metrics and /health on this port of every interface (0 = a
    /// free port).
    #[arg(
        long,
        value_name = "PORT",
        env = "MDP_ORCHESTRATOR_PORT",
        default_value_t = 8080
    )]
    pub port: u16,
    /// Serve them on this address instead (IP:PORT, e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR", env = "MDP_ORCHESTRATOR_LISTEN", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,
}

/// The orchestrator to talk to, shared by `ctl` and `top`.
#[derive(Debug, Clone, Args)]
pub struct OrchestratorFlags {
    /// The orchestrator's address.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "MDP_ORCHESTRATOR_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
}

/// `mdp ctl`.
#[derive(Debug, Clone, Args)]
pub struct CtlArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CtlCommand,
    /// The orchestrator.
    #[command(flatten)]
    pub orchestrator: OrchestratorFlags,
    /// Whom: all, or the id of one pipeline or store (as mdp top shows it).
    #[arg(long, global = true, value_name = "ID", default_value = "all")]
    pub target: String,
    /// Who is acting, for the audit trail (default: USER@HOSTNAME).
    #[arg(long, global = true, value_name = "NAME")]
    pub actor: Option<String>,
    /// How long to wait for the answers, in seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 5.0,
          value_parser = parse_positive)]
    pub timeout: f64,
}

/// The `mdp ctl` subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Subcommand)]
pub enum CtlCommand {
    /// Pipelines publish nothing until resumed, whatever the feedback says; stores stop
    /// taking new bars from the bus (those in hand are still written).
    Pause,
    /// Undoes pause.
    Resume,
    /// Sets the base rate of the pipelines, in bars per second (feedback still scales it).
    SetRate {
        /// Bars per second.
        #[arg(value_name = "BARS_PER_SEC", allow_negative_numbers = true,
              value_parser = parse_positive)]
        rate: f64,
    },
}

/// `mdp top`.
#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// The orchestrator.
    #[command(flatten)]
    pub orchestrator: OrchestratorFlags,
    /// Redraw this often, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1.0, value_parser = parse_positive)]
    pub every: f64,
    /// Print one frame and exit (for scripts and logs).
    #[arg(long)]
    pub once: bool,
}

/// The period of `--log-summary-every` (`None` when 0).
pub fn summary_period(secs: f64) -> Option<std::time::Duration> {
    (secs > 0.0).then(|| std::time::Duration::from_secs_f64(secs))
}
