//! `mdp pulse ...`: tail a stream, list or replay its dead letters, print stream statistics.

use anyhow::Context;
use pulse::{BackendKind, PulseMetrics};

use super::tail::tail;
use crate::cli::{DlqCommand, PulseArgs, PulseCommand};
use crate::wiring::{BusUser, open_pulse};

/// Runs a `mdp pulse` subcommand against the bus of `PulseConfig::from_env`.
pub async fn run_pulse(args: PulseArgs) -> anyhow::Result<()> {
    let pulse = open_pulse(None, PulseMetrics::default(), BusUser::Shared("mdp pulse")).await?;
    match args.command {
        PulseCommand::Tail {
            stream,
            last,
            count,
        } => {
            anyhow::ensure!(
                pulse.config().backend == BackendKind::Redis,
                "pulse tail reads Redis: set EVENT_BUS_BACKEND=redis (the in-memory bus lives \
                 inside one process)"
            );
            let url = pulse.config().redis_url.clone();
            let key = pulse.stream(&stream).key().to_owned();
            tokio::task::spawn_blocking(move || tail(&url, &key, last, count))
                .await
                .context("tail task failed")??;
        }
        PulseCommand::Dlq {
            command: DlqCommand::List { stream, count },
        } => {
            let letters = pulse
                .dead_letters(&stream, count)
                .await
                .with_context(|| format!("cannot list the dead letters of {stream}"))?;
            for letter in letters {
                println!(
                    "{}",
                    serde_json::json!({
                        "id": letter.id,
                        "original_id": letter.original_id,
                        "reason": letter.reason,
                        "deliveries": letter.deliveries,
                        "data": letter.data_text(),
                    })
                );
            }
        }
        PulseCommand::Dlq {
            command: DlqCommand::Replay { stream, count },
        } => {
            let replayed = pulse
                .replay_dead_letters(&stream, count)
                .await
                .with_context(|| format!("cannot replay the dead letters of {stream}"))?;
            println!(
                "replayed {replayed} dead letters to {}",
                pulse.stream(&stream).full()
            );
        }
        PulseCommand::Stats => {
            let streams = [
                (pulse::stream::FEEDBACK, ""),
                (pulse::stream::RATE_ADJUSTMENT, ""),
                (pulse::stream::BARS, pulse::stream::STORE_GROUP),
                (pulse::stream::HEALTH, ""),
                (pulse::stream::CONTROL_ACTIONS, ""),
                (pulse::stream::CONTROL_RESULTS, ""),
                (pulse::stream::CONTROL_AUDIT, ""),
            ];
            println!(
                "{:<36} {:>10} {:>8} {:>10} {:>10}  group",
                "stream", "length", "dlq", "pending", "backlog"
            );
            for (name, group) in streams {
                let stream = pulse.stream(name);
                let bus = pulse.backend();
                let len = bus.len(stream.key()).await.context("cannot read the bus")?;
                let dlq = bus.len(&stream.dlq_key()).await.unwrap_or(0);
                let backlog = match group {
                    "" => None,
                    g => bus.backlog(stream.key(), g).await.ok(),
                };
                let (pending, backlog) = backlog.map_or(("-".to_owned(), "-".to_owned()), |b| {
                    (b.pending.to_string(), b.total().to_string())
                });
                println!(
                    "{:<36} {len:>10} {dlq:>8} {pending:>10} {backlog:>10}  {group}",
                    stream.full()
                );
            }
        }
    }
    Ok(())
}
