//! Pulse benchmarks: publish->consume throughput and latency per backend, single and
//! batched publishing, consume-with-ack, and `redis-benchmark` XADD at the same pipeline
//! depth against the same server, in one run.
//!
//! `cargo bench -p pulse` prints criterion's figures and then one summary table (also
//! written as JSON to `$CARGO_TARGET_DIR/mdp-bench/pulse.json` for `cargo xtask bench`).
//! Redis figures need a server at `MDP_TEST_REDIS_URL` (default `redis://127.0.0.1:6379/0`).

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use core_contracts::{BackpressureLevel, FeedbackEvent, WireEvent};
use criterion::{Criterion, Throughput};
use pulse::backend::memory::InMemoryBus;
use pulse::backend::redis_streams::RedisStreamsBus;
use pulse::{BackendKind, EventBus, Pulse, PulseConfig, Subscription};
use tokio::runtime::Runtime;

const STREAM: &str = "telemetry.feedback";
const BATCH: usize = 100;

#[derive(Default)]
struct Summary {
    rows: BTreeMap<String, (f64, String)>,
}

impl Summary {
    fn rate(&mut self, name: &str, events: u64, elapsed: Duration) {
        let entry = self
            .rows
            .entry(name.to_owned())
            .or_insert((0.0, String::new()));
        let (total_events, total_secs) = parse_acc(&entry.1);
        let (events, secs) = (
            total_events + events as f64,
            total_secs + elapsed.as_secs_f64(),
        );
        *entry = (events / secs, format!("{events} {secs}"));
    }

    fn value(&mut self, name: &str, value: f64) {
        self.rows.insert(name.to_owned(), (value, String::new()));
    }

    fn report(&self) {
        println!("\n{:<58} {:>16}", "pulse figure", "value");
        for (name, (value, _)) in &self.rows {
            println!("{name:<58} {value:>16.1}");
        }
        let json: BTreeMap<&str, f64> = self
            .rows
            .iter()
            .map(|(k, (v, _))| (k.as_str(), *v))
            .collect();
        let dir = std::path::Path::new(
            &std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()),
        )
        .join("mdp-bench");
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(
                dir.join("pulse.json"),
                serde_json::to_string_pretty(&json).unwrap_or_default(),
            );
        }
    }
}

fn parse_acc(acc: &str) -> (f64, f64) {
    let mut parts = acc.split(' ').filter_map(|p| p.parse::<f64>().ok());
    (parts.next().unwrap_or(0.0), parts.next().unwrap_or(0.0))
}

fn event(n: u64) -> FeedbackEvent {
    FeedbackEvent::new(
        "bars-coord",
        n % 100,
        100,
        BackpressureLevel::Soft,
        1_729_234_567.123,
    )
    .expect("valid event")
    .with_reason("queue_high_watermark")
}

fn config(backend: BackendKind, prefix: &str) -> PulseConfig {
    PulseConfig {
        backend,
        redis_url: redis_url(),
        key_prefix: prefix.to_owned(),
        block: Duration::from_millis(100),
        read_count: std::num::NonZeroUsize::new(BATCH).expect("non-zero"),
        ..PulseConfig::default()
    }
}

fn redis_url() -> String {
    std::env::var("MDP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

async fn consume(sub: &mut Subscription<FeedbackEvent>, n: usize) {
    for _ in 0..n {
        let d = sub.next().await.expect("consumes");
        sub.ack(&d).await.expect("acks");
    }
    sub.flush_acks().await.expect("flushes");
}

fn sealed(pulse: &Pulse, n: usize) -> Vec<WireEvent<FeedbackEvent>> {
    (0..n as u64)
        .map(|i| pulse.seal(&event(i), Some("bars-coord")).expect("seals"))
        .collect()
}

/// Publishes one event at a time and waits for the consumer to see it: `samples` latencies.
fn ping_pong(rt: &Runtime, pulse: &Pulse, group: &str, samples: usize) -> Vec<Duration> {
    rt.block_on(async {
        // A stream of its own, so no backlog is mistaken for a fast delivery.
        let stream = format!("bench.latency.{group}");
        let mut sub = pulse
            .subscribe::<FeedbackEvent>(&stream, group, "c1")
            .await
            .expect("subscribes");
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Instant>(1);
        let consumer = tokio::spawn(async move {
            for _ in 0..samples {
                let d = sub.next().await.expect("consumes");
                sub.ack(&d).await.expect("acks");
                tx.send(Instant::now()).await.expect("reports");
            }
        });
        let mut latencies = Vec::with_capacity(samples);
        for i in 0..samples {
            let started = Instant::now();
            pulse
                .publish(&stream, &event(i as u64), Some("bars-coord"))
                .await
                .expect("publishes");
            let seen = rx.recv().await.expect("consumed");
            latencies.push(seen - started);
        }
        consumer.await.expect("consumer ends");
        latencies
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn record_latency(summary: &mut Summary, name: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    summary.value(
        &format!("{name} p50 latency (us)"),
        percentile(&latencies, 0.50).as_secs_f64() * 1e6,
    );
    summary.value(
        &format!("{name} p99 latency (us)"),
        percentile(&latencies, 0.99).as_secs_f64() * 1e6,
    );
}

fn bench_backend(
    c: &mut Criterion,
    rt: &Runtime,
    summary: &mut Summary,
    name: &str,
    pulse: &Pulse,
) {
    let mut group = c.benchmark_group(format!("pulse/{name}"));
    let key = pulse.stream(STREAM).key().to_owned();
    let data = serde_json::to_string(&sealed(pulse, 1)[0]).expect("encodes");

    group.throughput(Throughput::Elements(1));
    group.bench_function("publish single", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            rt.block_on(async {
                for i in 0..iters {
                    pulse
                        .publish(STREAM, &event(i), Some("bars-coord"))
                        .await
                        .expect("publishes");
                }
            });
            let elapsed = started.elapsed();
            summary.rate(&format!("{name} publish single (events/s)"), iters, elapsed);
            elapsed
        })
    });

    group.throughput(Throughput::Elements(BATCH as u64));
    let batch = sealed(pulse, BATCH);
    group.bench_function(format!("publish batch {BATCH}"), |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            rt.block_on(async {
                for _ in 0..iters {
                    pulse
                        .publish_batch(STREAM, &batch)
                        .await
                        .expect("publishes");
                }
            });
            let elapsed = started.elapsed();
            summary.rate(
                &format!("{name} publish batched x{BATCH} (events/s)"),
                iters * BATCH as u64,
                elapsed,
            );
            elapsed
        })
    });

    group.bench_function(format!("raw publish batch {BATCH}"), |b| {
        let raw: Vec<String> = vec![data.clone(); BATCH];
        b.iter_custom(|iters| {
            let started = Instant::now();
            rt.block_on(async {
                for _ in 0..iters {
                    pulse
                        .backend()
                        .publish_batch(&key, &raw, pulse::Retention::MaxLen(100_000))
                        .await
                        .expect("publishes");
                }
            });
            let elapsed = started.elapsed();
            summary.rate(
                &format!("{name} raw XADD batched x{BATCH} (events/s)"),
                iters * BATCH as u64,
                elapsed,
            );
            elapsed
        })
    });

    let consumer_group = format!("bench-consume-{}", uuid::Uuid::new_v4().simple());
    let mut sub = rt.block_on(async {
        let mut sub = pulse
            .subscribe::<FeedbackEvent>(STREAM, &consumer_group, "c1")
            .await
            .expect("subscribes");
        let backlog = pulse.backend().len(&key).await.expect("len") as usize;
        consume(&mut sub, backlog).await;
        sub
    });
    group.bench_function(format!("consume with ack, batch {BATCH}"), |b| {
        b.iter_custom(|iters| {
            // Publish one batch at a time (untimed) so the backlog never exceeds retention.
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                rt.block_on(pulse.publish_batch(STREAM, &batch))
                    .expect("publishes");
                let started = Instant::now();
                rt.block_on(consume(&mut sub, BATCH));
                elapsed += started.elapsed();
            }
            summary.rate(
                &format!("{name} consume with ack, 1 consumer (events/s)"),
                iters * BATCH as u64,
                elapsed,
            );
            elapsed
        })
    });

    group.bench_function(format!("publish->consume batch {BATCH}"), |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            rt.block_on(async {
                for _ in 0..iters {
                    pulse
                        .publish_batch(STREAM, &batch)
                        .await
                        .expect("publishes");
                    consume(&mut sub, BATCH).await;
                }
            });
            let elapsed = started.elapsed();
            summary.rate(
                &format!("{name} publish->consume (events/s)"),
                iters * BATCH as u64,
                elapsed,
            );
            elapsed
        })
    });
    group.finish();

    let samples = if name == "inmem" { 20_000 } else { 2_000 };
    let latencies = ping_pong(
        rt,
        pulse,
        &format!("bench-latency-{}", uuid::Uuid::new_v4().simple()),
        samples,
    );
    record_latency(
        summary,
        &format!("{name} publish->consume unbatched"),
        latencies,
    );
}

/// `redis-benchmark` XADD of the same data at pipeline depth `depth` over `clients`
/// connections: requests per second.
fn redis_benchmark(
    key: &str,
    data: &str,
    depth: usize,
    clients: usize,
    requests: usize,
) -> Option<f64> {
    let url = redis_url();
    let host_port = url
        .trim_start_matches("redis://")
        .split('/')
        .next()?
        .to_owned();
    let (host, port) = host_port
        .rsplit_once(':')
        .unwrap_or((host_port.as_str(), "6379"));
    let out = Command::new("redis-benchmark")
        .args([
            "-h",
            host,
            "-p",
            port,
            "-q",
            "-n",
            &requests.to_string(),
            "-P",
            &depth.to_string(),
            "-c",
            &clients.to_string(),
        ])
        .args(["XADD", key, "MAXLEN", "~", "100000", "*", "data", data])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.rsplit('\r').next()?.to_owned();
    let before = last.split(" requests per second").next()?;
    before.rsplit(' ').next()?.parse().ok()
}

fn redis_reachable() -> bool {
    redis::Client::open(redis_url().as_str())
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(1)))
        .is_ok()
}

fn cleanup(prefix: &str) {
    if let Ok(mut conn) = redis::Client::open(redis_url().as_str()).and_then(|c| c.get_connection())
    {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{prefix}*"))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut summary = Summary::default();

    let memory = Pulse::new(
        Arc::new(InMemoryBus::new()),
        config(BackendKind::InMemory, "bench:"),
    );
    bench_backend(&mut c, &rt, &mut summary, "inmem", &memory);

    if redis_reachable() {
        let prefix = format!("bench{}:", uuid::Uuid::new_v4().simple());
        let cfg = config(BackendKind::Redis, &prefix);
        let bus: Arc<dyn EventBus> = Arc::new(
            rt.block_on(RedisStreamsBus::connect(&cfg))
                .expect("connects"),
        );
        let redis = Pulse::new(bus, cfg);
        bench_backend(&mut c, &rt, &mut summary, "redis", &redis);
        let data = serde_json::to_string(&sealed(&redis, 1)[0]).expect("encodes");
        let key = format!("{prefix}redis-benchmark");
        // One connection, as our publisher uses: the like-for-like reference.
        for (depth, requests) in [(BATCH, 200_000), (1, 20_000)] {
            if let Some(rps) = redis_benchmark(&key, &data, depth, 1, requests) {
                summary.value(
                    &format!("redis-benchmark XADD -P {depth} -c 1 (events/s)"),
                    rps,
                );
            }
        }
        // redis-benchmark's default of 50 connections, for scale.
        if let Some(rps) = redis_benchmark(&key, &data, BATCH, 50, 500_000) {
            summary.value(
                &format!("redis-benchmark XADD -P {BATCH} -c 50 (events/s)"),
                rps,
            );
        }
        cleanup(&prefix);
    } else {
        eprintln!(
            "!!!! Redis is not reachable at {}: Redis figures skipped",
            redis_url()
        );
    }
    c.final_summary();
    summary.report();
}
