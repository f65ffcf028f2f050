//! BoundedQueue put+get pairs per second, with 0 and with 3 FeedbackBus subscribers.
//!
//! Two shapes: `steady` (put then get: the depth stays at 0–1, no watermark is crossed) and
//! `sawtooth` (fill to capacity then drain: every 10 pairs cross SOFT, HARD and OK, so each
//! cycle publishes three events to every subscriber), and `sawtooth_1000`, the same on a queue
//! of 1000 (three events per 1000 pairs, closer to a real queue's crossing rate). Subscribers drain their mailboxes on
//! runtime threads, as the Pulse publisher and the webhook would; the measured loop runs as a
//! task on a runtime worker thread, where a store's puts run.
//!
//! Run: `cargo bench -p store --bench queue`.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use core_contracts::FeedbackEvent;
use criterion::{BenchmarkId, Criterion, Throughput};
use store::feedback::FeedbackBus;
use store::queue::BoundedQueue;
use tokio::runtime::Runtime;

const CAPACITY: usize = 10;
/// Capacity of the `sawtooth_1000` shape: three events per 1000 pairs.
const LARGE: usize = 1000;

fn queue_on(bus: &FeedbackBus, capacity: usize) -> BoundedQueue<u64> {
    let bus = bus.clone();
    BoundedQueue::builder(NonZeroUsize::new(capacity).expect("non-zero"))
        .watermarks(Some(capacity * 8 / 10), Some(capacity * 4 / 10))
        .on_signal(move |s| {
            let event = FeedbackEvent::new("bench", s.size as u64, s.capacity as u64, s.level, 1.0)
                .expect("valid event")
                .with_reason(s.reason)
                .with_seq(s.seq);
            bus.publish(event);
        })
        .build()
        .expect("valid queue")
}

fn bench_queue(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut group = c.benchmark_group("queue_put_get");
    group.throughput(Throughput::Elements(CAPACITY as u64));
    for subscribers in [0usize, 3] {
        let bus = FeedbackBus::new();
        let consumers = spawn_consumers(&rt, &bus, subscribers);
        let queue = queue_on(&bus, CAPACITY);
        let large = queue_on(&bus, LARGE);
        group.bench_function(BenchmarkId::new("steady", subscribers), |b| {
            b.iter_custom(|iters| {
                let queue = queue.clone();
                run_on_worker(&rt, async move {
                    for _ in 0..iters {
                        for i in 0..CAPACITY as u64 {
                            queue.put(i).await.expect("room");
                            black_box(queue.get().await);
                        }
                    }
                })
            });
        });
        group.bench_function(BenchmarkId::new("sawtooth", subscribers), |b| {
            b.iter_custom(|iters| {
                let queue = queue.clone();
                run_on_worker(&rt, async move {
                    for _ in 0..iters {
                        for i in 0..CAPACITY as u64 {
                            queue.put(i).await.expect("room");
                        }
                        for _ in 0..CAPACITY {
                            black_box(queue.get().await);
                        }
                    }
                })
            });
        });
        group.throughput(Throughput::Elements(LARGE as u64));
        group.bench_function(BenchmarkId::new("sawtooth_1000", subscribers), |b| {
            b.iter_custom(|iters| {
                let queue = large.clone();
                run_on_worker(&rt, async move {
                    for _ in 0..iters {
                        for i in 0..LARGE as u64 {
                            queue.put(i).await.expect("room");
                        }
                        for _ in 0..LARGE {
                            black_box(queue.get().await);
                        }
                    }
                })
            });
        });
        group.throughput(Throughput::Elements(CAPACITY as u64));
        bus.close();
        for consumer in consumers {
            rt.block_on(consumer).expect("consumer task");
        }
    }
    group.finish();
}

/// Runs `work` as a task on a runtime worker thread (where a store's puts run) and returns
/// how long it took there.
fn run_on_worker(
    rt: &Runtime,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> Duration {
    rt.block_on(async {
        tokio::spawn(async move {
            let started = Instant::now();
            work.await;
            started.elapsed()
        })
        .await
        .expect("bench task")
    })
}

fn spawn_consumers(rt: &Runtime, bus: &FeedbackBus, n: usize) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let mut sub = bus.subscribe(format!("bench-{i}"));
            rt.spawn(async move {
                while let Some(event) = sub.recv().await {
                    black_box(event);
                }
            })
        })
        .collect()
}

criterion::criterion_group!(benches, bench_queue);
criterion::criterion_main!(benches);
