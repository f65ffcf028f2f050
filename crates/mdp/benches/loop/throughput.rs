//! End-to-end bars/s of the in-process loop beside the raw write speed of the same sink.
//!
//! The loop is `mdp run`'s: the synthetic source through the provider's rate coordinator
//! (at an effectively unlimited base rate) and a `CoordinatorSubmitter` into the store's
//! `WriteCoordinator`, feedback going back over an in-memory Pulse. Timing starts when the
//! pump starts and ends when the store has drained every bar and closed the sink. The raw
//! figure writes the same bars to the same kind of sink, opened the same way, with direct
//! `Sink::write` calls of the coordinator's batch size, and closes it: from one loop, and
//! from as many concurrent writers as the coordinator has workers. Every iteration gets
//! a fresh database (a new SQLite file, a new PostgreSQL schema), opened and removed
//! outside the timed part.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use core_contracts::Bar;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use mdp::cli::{OnBadRow, PipelineFlags};
use mdp::run::CoordinatorSubmitter;
use mdp::sink::SinkChoice;
use mdp::source::SourcePlan;
use mdp::telemetry::Metrics;
use pipeline::PipelineSettings;
use pipeline::service::PipelineSide;
use pipeline::source::Pump;
use pulse::backend::memory::InMemoryBus;
use pulse::{CancellationToken, Pulse, PulseConfig};
use store::config::{DatabaseUrl, StoreSettings};
use store::service::StoreSide;
use store::sink::{Revision, Sink};
use tokio::runtime::Runtime;

use crate::summary::Summary;

/// The pipeline's base rate: far above what any sink takes.
const UNLIMITED: f64 = 1e9;
const DEFAULT_PG_URL: &str = "postgres://root@127.0.0.1:5432/test";

/// Numbers the fresh databases.
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// Where the bars go.
enum Backend {
    /// SQLite files in a temporary directory.
    Sqlite,
    /// PostgreSQL schemas `{prefix}_{n}` on `url`, dropped through `admin`.
    Postgres {
        url: String,
        prefix: String,
        admin: Box<tokio_postgres::Client>,
    },
}

/// One backend, with the settings and the bars of the run.
struct Target<'a> {
    name: &'static str,
    backend: Backend,
    dir: &'a Path,
    store: StoreSettings,
    pipeline: PipelineSettings,
    plan: SourcePlan,
}

impl Target<'_> {
    /// The sink choice and settings of a fresh database.
    fn fresh(&self) -> (SinkChoice, StoreSettings, usize) {
        let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
        let mut settings = self.store.clone();
        let url = match &self.backend {
            Backend::Sqlite => DatabaseUrl::Sqlite(self.sqlite_file(n)),
            Backend::Postgres { url, prefix, .. } => {
                settings.sink.postgres.schema = format!("{prefix}_{n}");
                DatabaseUrl::Postgres(url.clone())
            }
        };
        settings.sink.database_url = url.clone();
        (SinkChoice { url, rate: None }, settings, n)
    }

    fn sqlite_file(&self, n: usize) -> PathBuf {
        self.dir.join(format!("loop-{n}.db"))
    }

    /// Removes the database `n`.
    async fn remove(&self, n: usize) {
        match &self.backend {
            Backend::Sqlite => {
                let file = self.sqlite_file(n);
                for suffix in ["", "-wal", "-shm"] {
                    let mut path = file.clone().into_os_string();
                    path.push(suffix);
                    let _ = std::fs::remove_file(path);
                }
            }
            Backend::Postgres { prefix, admin, .. } => {
                admin
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{prefix}_{n}\" CASCADE"))
                    .await
                    .expect("drops the bench schema");
            }
        }
    }

    /// The bars of the run, as the source produces them.
    fn bars(&self) -> Vec<Bar> {
        self.plan
            .open(0)
            .expect("synthetic source")
            .collect::<Result<_, _>>()
            .expect("synthetic bars")
    }

    /// One run of the whole loop; the time from the pump's start to the store drained.
    async fn end_to_end(&self, bars: u64) -> Duration {
        let (choice, settings, n) = self.fresh();
        let metrics = Metrics::default();
        let sink = mdp::sink::open(&choice, &settings, metrics.sink.clone())
            .await
            .expect("opens the sink");
        let pulse = Pulse::new(Arc::new(InMemoryBus::new()), PulseConfig::default())
            .with_metrics(metrics.pulse.clone());
        let background = CancellationToken::new();
        let dead_letters = self.dir.join(format!("dead-letters-{n}.ndjson"));
        let store = StoreSide::start(
            "mdp-bench",
            &settings,
            &dead_letters,
            sink,
            pulse.clone(),
            metrics.coordinator.clone(),
            background.clone(),
        )
        .expect("starts the store side");
        let pipeline =
            PipelineSide::start(&self.pipeline, Some(UNLIMITED), pulse, &metrics.pipeline)
                .await
                .expect("starts the pipeline side");
        let submitter = CoordinatorSubmitter::new(store.coordinator.clone());
        let pump = Pump::new(
            Arc::clone(&pipeline.rates),
            pipeline.provider.clone(),
            Arc::new(submitter.clone()),
        )
        .batch_size(self.pipeline.source.batch_size)
        .with_metrics(metrics.pipeline.clone());
        let source = self.plan.open(0).expect("synthetic source");

        let started = Instant::now();
        pump.run(source).await.expect("pumps every bar");
        submitter.settle().await;
        pipeline.stop().await;
        let stats = store
            .stop_within(
                std::time::Duration::from_secs(120),
                store::coordinator::Leftover::DeadLetter,
            )
            .await;
        let elapsed = started.elapsed();

        background.cancel();
        assert_eq!(stats.written, bars, "every bar written: {stats:?}");
        assert_eq!(
            stats.dropped + stats.lost + stats.dead_lettered,
            0,
            "{stats:?}"
        );
        self.remove(n).await;
        let _ = std::fs::remove_file(dead_letters);
        elapsed
    }

    /// The same bars written straight to a fresh sink, `batch` at a time by `writers` tasks
    /// (writer `w` takes batches `w`, `w + writers`...), and closed.
    async fn raw(&self, bars: &Arc<Vec<Bar>>, batch: usize, writers: usize) -> Duration {
        let (choice, settings, n) = self.fresh();
        let sink: Arc<dyn Sink> = mdp::sink::open(&choice, &settings, Metrics::default().sink)
            .await
            .expect("opens the sink");
        let revisions: Arc<[Revision]> = vec![Revision::new(1); batch].into();
        let started = Instant::now();
        if writers == 1 {
            for chunk in bars.chunks(batch) {
                let revisions = &revisions[..chunk.len()];
                sink.write(chunk, revisions).await.expect("writes");
            }
        } else {
            let tasks: Vec<_> = (0..writers)
                .map(|w| {
                    let (sink, bars) = (Arc::clone(&sink), Arc::clone(bars));
                    let revisions = Arc::clone(&revisions);
                    tokio::spawn(async move {
                        for chunk in bars.chunks(batch).skip(w).step_by(writers) {
                            let revisions = &revisions[..chunk.len()];
                            sink.write(chunk, revisions).await.expect("writes");
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("writer finishes");
            }
        }
        sink.close().await.expect("closes");
        let elapsed = started.elapsed();
        self.remove(n).await;
        elapsed
    }
}

/// Benches every reachable backend with `bars` bars per iteration.
pub(crate) fn bench(criterion: &mut Criterion, rt: &Runtime, summary: &mut Summary, bars: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = StoreSettings::default();
    let pipeline = PipelineSettings::from_lookup(&|_| None).expect("default settings");
    let flags = PipelineFlags {
        bars: Some(bars),
        duration: None,
        csv: None,
        on_bad_row: OnBadRow::Fail,
        bad_rows_file: dir.path().join("bad-rows.ndjson"),
        rate: None,
    };
    let plan = SourcePlan::new(&flags, &pipeline.source, &pipeline.feedback.provider_name);
    let mut targets = vec![Target {
        name: "sqlite",
        backend: Backend::Sqlite,
        dir: dir.path(),
        store: store.clone(),
        pipeline: pipeline.clone(),
        plan: plan.clone(),
    }];
    if let Some(backend) = rt.block_on(postgres()) {
        targets.push(Target {
            name: "postgres",
            backend,
            dir: dir.path(),
            store,
            pipeline,
            plan,
        });
    }

    let mut group = criterion.benchmark_group("loop");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(bars));
    for target in &targets {
        let batch = target.store.coordinator.batch_size.get();
        let workers = target.store.coordinator.workers.get();
        let input = Arc::new(target.bars());
        group.bench_function(BenchmarkId::new(target.name, "end_to_end"), |b| {
            b.iter_custom(|iters| {
                let elapsed: Duration = (0..iters)
                    .map(|_| rt.block_on(target.end_to_end(bars)))
                    .sum();
                summary.rate(
                    &format!("{} end-to-end loop (bars/s)", target.name),
                    iters * bars,
                    elapsed,
                );
                elapsed
            });
        });
        for writers in [1, workers] {
            let (id, figure) = if writers == 1 {
                (
                    "raw_write".to_owned(),
                    format!("{} raw sink write (bars/s)", target.name),
                )
            } else {
                (
                    format!("raw_write_{writers}_writers"),
                    format!("{} raw sink write, {writers} writers (bars/s)", target.name),
                )
            };
            group.bench_function(BenchmarkId::new(target.name, id), |b| {
                b.iter_custom(|iters| {
                    let elapsed: Duration = (0..iters)
                        .map(|_| rt.block_on(target.raw(&input, batch, writers)))
                        .sum();
                    summary.rate(&figure, iters * bars, elapsed);
                    elapsed
                });
            });
            let e2e = summary.get(&format!("{} end-to-end loop (bars/s)", target.name));
            if let (Some(e2e), Some(raw)) = (e2e, summary.get(&figure)) {
                println!(
                    "{}: end-to-end {e2e:.0} bars/s, raw write x{batch} by {writers} writer(s) \
                     {raw:.0} bars/s, ratio {:.2}",
                    target.name,
                    e2e / raw
                );
            }
        }
    }
    group.finish();
}

/// The PostgreSQL backend, or `None` (loudly) when the server is unreachable.
async fn postgres() -> Option<Backend> {
    let url = std::env::var("MDP_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
    match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
        Ok((admin, connection)) => {
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    eprintln!("bench admin connection ended: {error}");
                }
            });
            let prefix = format!(
                "mdp_bench_loop_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            Some(Backend::Postgres {
                url,
                prefix,
                admin: Box::new(admin),
            })
        }
        Err(error) => {
            eprintln!(
                "\n!!!!! SKIPPING the PostgreSQL loop benchmarks: {} unreachable ({error}) !!!!!\n",
                pulse::redact_url(&url)
            );
            None
        }
    }
}
