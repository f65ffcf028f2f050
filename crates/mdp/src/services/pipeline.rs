//! `mdp pipeline`: a [`PipelineService`] on the source the flags name, with its HTTP
//! endpoints (/metrics, health, readiness once a store is known), a periodic summary in the
//! log and the signals; stops on SIGINT/SIGTERM or after `--bars`/`--duration`/the end of
//! the CSV file.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use core_contracts::{NodeRole, TARGET_ALL};
use pipeline::PipelineSettings;
use pipeline::service::PipelineService;
use pulse::CancellationToken;

use super::summary::{self, Reading, Service};
use super::{obey, pipeline_http, status};
use crate::cli::{PipelineArgs, summary_period};
use crate::source::SourcePlan;
use crate::telemetry::{Metrics, Role};
use crate::wiring::{BusUser, open_pulse, prime_metrics};
use crate::{http, shutdown};

/// Runs the pipeline service until it is done or told to stop; after that, winding down
/// takes at most `grace`.
pub async fn run_pipeline(args: PipelineArgs, grace: Duration) -> anyhow::Result<()> {
    let mut settings = PipelineSettings::from_env().context("invalid pipeline settings")?;
    if let Some(id) = &args.id {
        anyhow::ensure!(
            !id.trim().is_empty() && id.trim() != TARGET_ALL,
            "invalid --id {id:?}: expected a non-empty name other than {TARGET_ALL:?} (the \
             target of every member in mdp ctl)"
        );
        settings.feedback.consumer_name.clone_from(id);
    }
    let plan = SourcePlan::new(
        &args.pipeline,
        &settings.source,
        &settings.feedback.provider_name,
    );
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
    let pulse = open_pulse(
        args.bus,
        metrics.pulse.clone(),
        BusUser::Shared("mdp pipeline"),
    )
    .await?;
    let mut builder = PipelineService::builder(settings, pulse.clone())
        .metrics(metrics.pipeline.clone())
        .publish_metrics(metrics.publish.clone());
    if let Some(rate) = args.pipeline.rate {
        builder = builder.rate(rate);
    }
    if let Some(path) = &args.checkpoint {
        builder = builder.checkpoint(path);
    }
    let service = builder.start().await?;
    let bars = match plan.open(service.resume_after()) {
        Ok(bars) => bars,
        Err(error) => {
            service.stop(grace).await;
            return Err(error);
        }
    };

    let serving = CancellationToken::new();
    prime_metrics(
        &pulse,
        &[pulse::stream::BARS, pulse::stream::RATE_ADJUSTMENT],
    )
    .await;
    let service = Arc::new(service);
    let clock = Arc::clone(pulse.clock());
    let member_tasks = CancellationToken::new();
    let member = obey::Member {
        id: service.id().to_owned(),
        role: NodeRole::Pipeline,
    };
    let reporting = {
        let service = Arc::clone(&service);
        status::spawn_status(
            pulse.clone(),
            member.id.clone(),
            Duration::from_secs_f64(args.status_every),
            member_tasks.clone(),
            move || {
                let (service, clock) = (Arc::clone(&service), Arc::clone(&clock));
                async move {
                    service
                        .status(env!("CARGO_PKG_VERSION"), clock.unix_seconds())
                        .await
                }
            },
        )
    };
    let obeying = {
        let service = Arc::clone(&service);
        obey::spawn_obey(
            pulse.clone(),
            member,
            member_tasks.clone(),
            move |command| {
                let service = Arc::clone(&service);
                async move { service.control(&command).await }
            },
        )
    };
    let handler = service.handler();
    let (recorder, summary_handler, published) = (
        service.recorder(),
        service.handler(),
        metrics.publish.published.clone(),
    );
    let summaries = summary::spawn(
        Service::Pipeline,
        summary_period(args.log_summary_every),
        move || {
            let (recorder, handler, published) = (
                Arc::clone(&recorder),
                Arc::clone(&summary_handler),
                published.clone(),
            );
            async move {
                let (scale, level) = recorder.current();
                Reading {
                    bars: published.get(),
                    level: level.as_str(),
                    scale: Some(scale),
                    backlog: Some(handler.backlog().await),
                    queue: None,
                }
            }
        },
        serving.clone(),
    );
    let routes = pipeline_http::router(
        metrics.registry(Role::Pipeline),
        pulse,
        handler,
        Arc::new(service.health_fn()),
    );
    let addr = http::service_addr(args.listen, args.port);
    let (addr, server) = match http::serve(routes, addr, serving.clone()).await {
        Ok(serving) => serving,
        Err(error) => {
            member_tasks.cancel();
            status::join_members(reporting, obeying).await;
            stop(service, grace).await;
            return Err(error);
        }
    };
    tracing::info!(
        %addr,
        id = service.id(),
        resumed_after = service.resume_after(),
        provider = service.provider(),
        "pipeline started"
    );

    let deadline = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let outcome = tokio::select! {
        result = service.publish(bars) => result.map(|_| "end of source".to_owned()),
        () = deadline => Ok("duration".to_owned()),
        signal = shutdown::signal() => Ok(signal.to_owned()),
    };
    // Winding down, the service and the HTTP server together, takes at most `grace`.
    let wind_down_by = tokio::time::Instant::now() + grace;
    if let Some(summaries) = summaries {
        summaries.abort();
    }
    member_tasks.cancel();
    status::join_members(reporting, obeying).await;
    let published = stop(service, grace).await;
    serving.cancel();
    if tokio::time::timeout_at(wind_down_by, server).await.is_err() {
        tracing::warn!(
            grace_s = grace.as_secs_f64(),
            "pipeline shutdown took longer than the grace period"
        );
    }
    match outcome {
        Ok(reason) => {
            tracing::info!(published, reason, "pipeline stopped");
            Ok(())
        }
        Err(error) => Err(anyhow::Error::new(error)),
    }
}

/// Stops the service once the tasks sharing it are done with it.
async fn stop(service: Arc<PipelineService>, grace: Duration) -> u64 {
    match Arc::try_unwrap(service) {
        Ok(service) => service.stop(grace).await,
        Err(shared) => {
            tracing::warn!("pipeline still in use at shutdown; stopping without draining");
            shared.published()
        }
    }
}
