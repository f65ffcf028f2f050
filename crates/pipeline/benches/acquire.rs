//! `RateCoordinator::acquire` throughput: uncontended, and shared by 8 tasks on a
//! multi-threaded runtime. The bucket never runs dry, so the figures are the coordinator's
//! own cost (lookup, lock, bucket arithmetic, telemetry), not the configured rate.
//!
//! `cargo bench -p pipeline --bench acquire`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pipeline::rate::{ProviderConfig, RateCoordinator};
use tokio::runtime::Runtime;

const TASKS: u64 = 8;
const PER_TASK: u64 = 1_000;

fn coordinator() -> Arc<RateCoordinator> {
    let rates = RateCoordinator::new();
    rates
        .register_provider("bench", ProviderConfig::new(u32::MAX, 1e15))
        .expect("valid provider");
    Arc::new(rates)
}

fn uncontended(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let rates = coordinator();
    let mut group = c.benchmark_group("acquire");
    group.throughput(Throughput::Elements(1));
    group.bench_function("uncontended", |b| {
        b.to_async(&rt)
            .iter(|| async { rates.acquire("bench", 1).await.expect("granted") });
    });
    group.finish();
}

fn contended(c: &mut Criterion) {
    let rt: Runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(8)
        .enable_time()
        .build()
        .expect("runtime");
    let rates = coordinator();
    let mut group = c.benchmark_group("acquire");
    group.throughput(Throughput::Elements(TASKS * PER_TASK));
    group.bench_function("8_contending_tasks", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += rt.block_on(async {
                    let start = Instant::now();
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let rates = Arc::clone(&rates);
                            tokio::spawn(async move {
                                for _ in 0..PER_TASK {
                                    rates.acquire("bench", 1).await.expect("granted");
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.expect("task");
                    }
                    start.elapsed()
                });
            }
            total
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = uncontended, contended
}
criterion_main!(benches);
