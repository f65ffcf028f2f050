//! `mdp pipeline`: produces bars at the rate the stores' feedback allows and publishes them
//! on the bars stream; serves /metrics and health; stops on SIGINT/SIGTERM or after
//! `--bars`/`--duration`/the end of the CSV file.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use core_contracts::{HealthComponent, HealthState};
use pipeline::PipelineSettings;
use pipeline::source::Pump;
use pulse::CancellationToken;
use store::http::{HttpState, router};

use super::bar_publisher::BarPublisher;
use super::checkpoint::Checkpoint;
use crate::cli::PipelineArgs;
use crate::source::SourcePlan;
use crate::telemetry::Metrics;
use crate::wiring::{PipelineSide, open_pulse};
use crate::{http, shutdown};

/// Runs the pipeline service until it is done or told to stop; after that, winding down
/// takes at most `grace`.
pub async fn run_pipeline(args: PipelineArgs, grace: Duration) -> anyhow::Result<()> {
    let settings = PipelineSettings::from_env().context("invalid pipeline settings")?;
    let plan = SourcePlan::new(
        &args.pipeline,
        &settings.source,
        &settings.feedback.provider_name,
    );
    let checkpoint = Checkpoint::new(args.checkpoint.clone());
    let already = checkpoint.load()?;
    let bars = plan.open(already)?;
    let duration = args
        .pipeline
        .duration
        .map(|secs| {
            Duration::try_from_secs_f64(secs)
                .ok()
                .filter(|d| !d.is_zero())
                .with_context(|| format!("invalid --duration {secs}: expected seconds > 0"))
        })
        .transpose()?;

    let metrics = Metrics::default();
    let pulse = open_pulse(args.bus, metrics.pulse.clone()).await?;
    // The store group exists from the first bar on, so that its backlog is measured and
    // nothing is trimmed before the stores have read it, even when they start later.
    let bars_key = pulse.stream(pulse::stream::BARS).key().to_owned();
    if let Err(error) = pulse
        .backend()
        .ensure_group(&bars_key, super::STORE_GROUP)
        .await
    {
        tracing::warn!(%error, stream = bars_key, "cannot create the store group yet");
    }
    let side = PipelineSide::start(&settings, args.pipeline.rate, pulse.clone(), &metrics).await?;
    let stop = CancellationToken::new();
    let publisher = Arc::new(
        BarPublisher::new(
            pulse.clone(),
            checkpoint,
            already,
            (
                metrics.pipeline_published.clone(),
                metrics.pipeline_publish_retries.clone(),
            ),
            stop.clone(),
        )
        .admitting(Arc::clone(&side.handler)),
    );

    let recorder = Arc::clone(&side.recorder);
    let provider = side.provider.clone();
    let bus = pulse.clone();
    let known = Arc::clone(&side.handler);
    let state = HttpState::new("pipeline", env!("CARGO_PKG_VERSION"))
        .with_metrics(metrics.registry())
        .with_readiness(
            "bus",
            Arc::new(move || {
                let bus = bus.clone();
                async move { super::bus_ready(&bus).await }
            }),
        )
        .with_readiness(
            "store",
            Arc::new(move || {
                let handler = Arc::clone(&known);
                async move { handler.store_known().await }
            }),
        )
        .with_components(Arc::new(move || {
            let (scale, level) = recorder.current();
            vec![HealthComponent {
                name: format!("rate:{provider}"),
                state: HealthState::Healthy,
                details: BTreeMap::from([
                    ("scale".to_owned(), format!("{scale:.2}")),
                    ("level".to_owned(), level.as_str().to_owned()),
                ]),
            }]
        }));
    let (addr, server) = http::serve(router(state), args.port, stop.clone()).await?;
    let backlog = super::backlog::spawn_backlog_admission(
        pulse.clone(),
        Arc::clone(&side.handler),
        stop.clone(),
    );
    tracing::info!(
        %addr,
        resumed_after = already,
        provider = side.provider,
        "pipeline started"
    );

    let pump = Pump::new(
        Arc::clone(&side.rates),
        side.provider.clone(),
        publisher.clone(),
    )
    .batch_size(settings.source.batch_size)
    .with_metrics(metrics.pipeline.clone());
    let deadline = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        result = pump.run(bars) => result.map(|_| "end of source".to_owned()),
        () = deadline => Ok("duration".to_owned()),
        signal = shutdown::signal() => Ok(signal.to_owned()),
    };
    stop.cancel();
    backlog.abort();
    let wind_down = async {
        side.stop().await;
        let _ = server.await;
    };
    if tokio::time::timeout(grace, wind_down).await.is_err() {
        tracing::warn!(
            ?grace,
            "pipeline shutdown took longer than the grace period"
        );
    }
    let published = publisher.published();
    match outcome {
        Ok(reason) => {
            tracing::info!(published, reason, "pipeline stopped");
            Ok(())
        }
        Err(error) => Err(anyhow::Error::new(error)
            .context(format!("the pipeline stopped after {published} bars"))),
    }
}
