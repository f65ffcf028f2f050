//! WriteCoordinator items per second into the memory sink: 10 000 bars submitted with
//! `submit_many` and written by 4 workers in batches of 500, `stop(true)` included.
//!
//! Run: `cargo bench -p store --bench coordinator`.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use core_contracts::Bar;
use criterion::{Criterion, Throughput};
use rust_decimal::Decimal;
use store::coordinator::{CoordinatorConfig, WriteCoordinator};
use store::feedback::FeedbackBus;
use store::sink::MemorySink;

const ITEMS: usize = 10_000;

fn bars(n: usize) -> Vec<Bar> {
    let start = Utc
        .with_ymd_and_hms(2024, 5, 1, 13, 30, 0)
        .single()
        .expect("valid date");
    (0..n)
        .map(|i| Bar {
            provider: "bench".to_owned(),
            symbol: "AAPL".to_owned(),
            resolution: "1m".to_owned(),
            ts: start + chrono::Duration::minutes(i as i64),
            open: Decimal::new(18725, 2),
            high: Decimal::new(18790, 2),
            low: Decimal::new(18710, 2),
            close: Decimal::new(18780, 2),
            volume: Decimal::new(12_000, 0),
            delayed: false,
        })
        .collect()
}

fn bench_coordinator(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("mdp-bench-coordinator-{}", std::process::id()));
    let input = bars(ITEMS);
    let mut group = c.benchmark_group("coordinator");
    group.throughput(Throughput::Elements(ITEMS as u64));
    group.sample_size(20);
    group.bench_function("submit_to_memory_sink", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let input = input.clone();
            let dir = dir.clone();
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let batch = input.clone();
                    let mut config = CoordinatorConfig::new("bench", dir.join("dl.ndjson"));
                    config.workers = NonZeroUsize::new(4).expect("non-zero");
                    config.batch_size = NonZeroUsize::new(500).expect("non-zero");
                    let sink = Arc::new(MemorySink::new());
                    let coord = WriteCoordinator::builder(config, sink.clone())
                        .bus(FeedbackBus::new())
                        .start()
                        .expect("valid config");
                    let started = Instant::now();
                    coord.submit_many(batch).await.expect("accepted");
                    coord.stop(true).await;
                    total += started.elapsed();
                    assert_eq!(sink.len(), ITEMS);
                }
                total
            }
        });
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion::criterion_group!(benches, bench_coordinator);
criterion::criterion_main!(benches);
