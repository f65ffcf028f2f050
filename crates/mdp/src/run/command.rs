//! The body of `mdp run`.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use pipeline::PipelineSettings;
use pipeline::service::PipelineSide;
use pipeline::source::Pump;
use pulse::CancellationToken;
use store::config::StoreSettings;
use store::coordinator::{Leftover, WriteCoordinator};
use store::http::{HttpState, router};
use store::service::StoreSide;
use tokio::time::Instant;

use super::demo::{self, Shape};
use super::levels::count_levels;
use super::progress::{Progress, Sources};
use super::story::slowed_and_paused;
use super::{CoordinatorSubmitter, Summary};
use crate::cli::RunArgs;
use crate::source::SourcePlan;
use crate::telemetry::{Metrics, Role};
use crate::wiring::{BusUser, open_pulse};
use crate::{http, shutdown, sink};

/// Default length of a run of the endless synthetic source without `--bars`/`--duration`,
/// when it is not the demo (which lasts [`demo::LENGTH`]).
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// How often the end of a run checks whether the store has written everything.
const DRAIN_POLL: Duration = Duration::from_millis(50);

/// Runs the loop and returns its summary; fails on bad configuration. Once the source ends,
/// the store writes what it holds; after SIGINT/SIGTERM it gets at most `grace` for that,
/// and what is still unwritten then goes to the dead-letter file. A source that fails
/// midway (a bad CSV row under `--on-bad-row fail`) still yields the summary, with the
/// error in it.
pub async fn run(args: RunArgs, grace: Duration) -> anyhow::Result<Summary> {
    let store_settings = StoreSettings::from_env().context("invalid store settings")?;
    let pipeline_settings = PipelineSettings::from_env().context("invalid pipeline settings")?;
    let plan = SourcePlan::new(
        &args.pipeline,
        &pipeline_settings.source,
        &pipeline_settings.feedback.provider_name,
    );
    let duration = match args.pipeline.duration {
        Some(secs) => Some(
            Duration::try_from_secs_f64(secs)
                .ok()
                .filter(|d| !d.is_zero())
                .with_context(|| format!("invalid --duration {secs}: expected seconds > 0"))?,
        ),
        None => None,
    };
    let demo = demo::wanted(
        args.pipeline.rate,
        args.store.sink_rate,
        plan.csv().is_some(),
        |var| std::env::var(var).ok(),
    )
    .then(|| Shape::new(demo::SINK_RATE, duration.unwrap_or(demo::LENGTH)));
    let duration = match (duration, demo) {
        (Some(d), _) => Some(d),
        (None, _) if plan.is_finite() => None,
        (None, Some(_)) => Some(demo::LENGTH),
        (None, None) => Some(DEFAULT_DURATION),
    };
    let sink_choice = sink::SinkChoice::new(
        args.store.sink.as_deref(),
        args.store.sink_rate.or(demo.map(|d| d.sink_rate())),
        &store_settings,
    )?;
    let bars = plan.open(0)?;

    let metrics = Metrics::default();
    let pulse = open_pulse(args.bus, metrics.pulse.clone(), BusUser::Run).await?;
    let sink = sink::open(&sink_choice, &store_settings, metrics.sink.clone()).await?;
    let coord_id = args
        .store
        .coord_id
        .clone()
        .unwrap_or_else(|| "mdp-run".to_owned());
    let background = CancellationToken::new();
    let store = StoreSide::start(
        &coord_id,
        &store_settings,
        &args.store.dead_letter_file,
        sink,
        pulse.clone(),
        metrics.coordinator.clone(),
        background.clone(),
    )
    .context("cannot start the write coordinator")?;
    let (levels, episodes) = count_levels(&store.feedback);
    let pipeline = PipelineSide::start(
        &pipeline_settings,
        args.pipeline
            .rate
            .or(demo.map(|d| d.at(Duration::ZERO).rate)),
        pulse,
        &metrics.pipeline,
    )
    .await?;

    let listen = args.listen.or_else(|| {
        args.port
            .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
    });
    if let Some(addr) = listen {
        let coordinator = store.coordinator.clone();
        let state = HttpState::new("mdp-run", env!("CARGO_PKG_VERSION"))
            .with_metrics(metrics.registry(Role::Run))
            .with_components(Arc::new(move || vec![coordinator.health_component()]));
        let (addr, _) = http::serve(router(state), addr, background.clone()).await?;
        eprintln!("metrics and health on http://{addr}/metrics");
    }

    let store_level = store.coordinator.clone();
    let submitter = CoordinatorSubmitter::new(store.coordinator.clone());
    let pump = Pump::new(
        Arc::clone(&pipeline.rates),
        pipeline.provider.clone(),
        Arc::new(submitter.clone()),
    )
    .batch_size(pipeline_settings.source.batch_size)
    .with_metrics(metrics.pipeline.clone());
    if let Some(shape) = &demo {
        eprintln!("{}", shape.describe(&sink_choice.url.to_string()));
    }
    let started = Instant::now();
    let shaper = demo.map(|shape| {
        demo::spawn_shaper(
            Arc::clone(&pipeline.rates),
            pipeline.provider.clone(),
            shape,
            started,
        )
    });
    let progress = Progress::start(
        Sources {
            coordinator: store.coordinator.clone(),
            recorder: Arc::clone(&pipeline.recorder),
            episodes,
            demo,
            started,
        },
        !args.json,
    );
    let deadline = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let mut signalled = false;
    let (ended_by, failure) = tokio::select! {
        result = pump.run(bars) => match result {
            Ok(_) if plan.limit.is_some() => ("bars".to_owned(), None),
            Ok(_) => ("end_of_source".to_owned(), None),
            Err(error) => ("error".to_owned(), Some(error)),
        },
        () = deadline => ("duration".to_owned(), None),
        signal = shutdown::signal() => {
            signalled = true;
            (signal.to_owned(), None)
        }
    };
    drop(shaper);
    let source_seconds = started.elapsed().as_secs_f64();
    let written_while_running = store.coordinator.stats().written;
    submitter.settle().await;
    let recorder = Arc::clone(&pipeline.recorder);
    pipeline.stop().await;
    let capacity = store.coordinator.config().capacity.get();
    if !signalled {
        tokio::select! {
            () = drained(&store.coordinator) => {}
            _ = shutdown::signal() => {}
        }
    }
    let stats = store.stop_within(grace, Leftover::DeadLetter).await;
    let final_level = store_level.current_level().as_str().to_owned();
    let depths = progress.stop().await;
    let levels = levels.await.unwrap_or_default();
    background.cancel();
    let seconds = started.elapsed().as_secs_f64();
    let (seconds_at_scale, rate_adjustments) = recorder.spent();
    let (seconds_slowed, seconds_paused) = slowed_and_paused(&seconds_at_scale);
    let summary = Summary {
        ended_by,
        seconds,
        offered: submitter.offered(),
        written: stats.written,
        dead_lettered: stats.dead_lettered,
        dropped: stats.dropped + stats.lost,
        bars_per_sec: stats.written as f64 / seconds.max(1e-9),
        source_seconds,
        bars_per_sec_while_running: written_while_running as f64 / source_seconds.max(1e-9),
        capacity,
        peak_queue_depth: depths.max(),
        queue_depth_p99: depths.quantile(0.99),
        final_level,
        feedback_events: levels.by_level,
        hard_episodes: levels.hard_episodes,
        hard_episodes_after_start: levels.hard_episodes_after_start,
        soft_episodes: levels.soft_episodes,
        behind_episodes: levels.behind_episodes,
        seconds_slowed,
        seconds_paused,
        rate_adjustments,
        seconds_at_scale,
        sink: sink_choice.url.to_string(),
        dead_letter_file: args.store.dead_letter_file.display().to_string(),
        bad_rows_skipped: plan.bad_rows.counts.skipped(),
        bad_rows_dead_lettered: plan.bad_rows.counts.dead_lettered(),
        bad_rows_file: plan.bad_rows.file.display().to_string(),
        demo_sink_rate: demo.map(|d| d.sink_rate()),
        error: None,
    };
    let error = failure.map(|error| {
        let error = anyhow::Error::new(error).context(format!(
            "the pipeline stopped after {} bars",
            summary.offered
        ));
        crate::error_line::error_line(&error)
    });
    Ok(Summary { error, ..summary })
}

/// Returns once every bar the coordinator accepted is written or dead-lettered.
async fn drained(coordinator: &WriteCoordinator) {
    loop {
        let s = coordinator.stats();
        if s.written + s.dead_lettered + s.lost + s.abandoned >= s.submitted {
            return;
        }
        tokio::time::sleep(DRAIN_POLL).await;
    }
}
