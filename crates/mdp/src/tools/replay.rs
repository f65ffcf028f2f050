//! `mdp replay-dead-letters FILE`: writes a store dead-letter file back through the sink, each
//! bar with its recorded revision (a fresh one for records written before revisions); the
//! records that fail again stay in the file.

use std::sync::Arc;

use anyhow::Context;
use core_contracts::SystemClock;
use store::config::StoreSettings;
use store::sink::RevisionGenerator;
use store::telemetry::SinkMetrics;

use crate::cli::ReplayArgs;
use crate::sink::{SinkChoice, open};

/// Replays `args.file` into the sink; fails when records remain.
pub async fn replay_dead_letters(args: ReplayArgs) -> anyhow::Result<()> {
    let settings = StoreSettings::from_env().context("invalid store settings")?;
    let choice = SinkChoice::new(args.sink.as_deref(), None, &settings)?;
    anyhow::ensure!(
        args.file.exists(),
        "no dead-letter file at {}",
        args.file.display()
    );
    let sink = open(&choice, &settings, SinkMetrics::default()).await?;
    let revisions = RevisionGenerator::new(Arc::new(SystemClock::new()));
    let report = store::dead_letter::replay(&args.file, sink.as_ref(), &revisions)
        .await
        .with_context(|| format!("cannot replay {}", args.file.display()))?;
    if let Err(error) = sink.close().await {
        tracing::warn!(%error, "closing the sink failed");
    }
    println!(
        "replayed {} records ({} bars) into {}; {} records failed, {} lines undecodable",
        report.records_replayed,
        report.bars_written,
        choice.url,
        report.records_failed,
        report.lines_undecodable
    );
    anyhow::ensure!(
        report.is_complete(),
        "{} records remain in {}",
        report.records_failed + report.lines_undecodable,
        args.file.display()
    );
    Ok(())
}
