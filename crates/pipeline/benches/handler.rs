//! `FeedbackHandler::handle` throughput: steady heartbeats from 4 store coordinators (no
//! adjustment), and events that change the level every time (an adjustment applied to a
//! real `RateCoordinator` and published to a no-op sink).
//!
//! `cargo bench -p pipeline --bench handler`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use core_contracts::{BackpressureLevel, Clock, FeedbackEvent, SystemClock};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pipeline::config::FeedbackSettings;
use pipeline::feedback::{FeedbackHandler, NoopSink};
use pipeline::rate::{ProviderConfig, RateCoordinator, RateCoordinatorAdapter};

fn handler() -> FeedbackHandler {
    let settings = FeedbackSettings::default();
    let rates = Arc::new(RateCoordinator::new());
    rates
        .register_provider(&settings.provider_name, ProviderConfig::default())
        .expect("valid provider");
    FeedbackHandler::new(
        &settings,
        Arc::new(RateCoordinatorAdapter::new(rates)),
        Arc::new(NoopSink),
    )
}

fn events(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let clock = SystemClock::new();
    let coordinators = ["store-0", "store-1", "store-2", "store-3"];
    let mut group = c.benchmark_group("handler");
    group.throughput(Throughput::Elements(1));

    let steady = handler();
    let seq = AtomicU64::new(0);
    group.bench_function("heartbeats", |b| {
        b.to_async(&rt).iter(|| async {
            let n = seq.fetch_add(1, Ordering::Relaxed);
            let id = coordinators[(n % 4) as usize];
            let ev = FeedbackEvent::new(id, 10, 100, BackpressureLevel::Ok, clock.unix_seconds())
                .expect("valid event")
                .with_seq(n);
            steady.handle(ev).await.expect("handled")
        });
    });

    let changing = handler();
    let seq = AtomicU64::new(0);
    group.bench_function("level_changes", |b| {
        b.to_async(&rt).iter(|| async {
            let n = seq.fetch_add(1, Ordering::Relaxed);
            let level = BackpressureLevel::ALL[(n % 3) as usize];
            let ev = FeedbackEvent::new("store-0", 10, 100, level, clock.unix_seconds())
                .expect("valid event")
                .with_seq(n);
            changing.handle(ev).await.expect("handled")
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = events
}
criterion_main!(benches);
