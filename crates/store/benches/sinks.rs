//! Sink throughput in bars/s per batch size (1, 100, 1000, 10000): the SQLite sink, the
//! PostgreSQL sink and, beside it in the same run, a plain `COPY` of the same rows through
//! `psql` as the reference of what the server can take.
//!
//! Every timed write carries fresh keys (inserts, not updates). PostgreSQL runs in a schema
//! of its own (`MDP_TEST_DATABASE_URL`, default `postgres://root@127.0.0.1:5432/test`), dropped
//! at the end; when the server is unreachable those rows are skipped with a message.
//! The psql figure includes starting `psql` and connecting, once per batch.
//!
//! Run: `cargo bench -p store --bench sinks`.

#[path = "../tests/support/bars.rs"]
mod bars;

use std::io::Write as _;
use std::num::NonZeroUsize;
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use core_contracts::Bar;
use criterion::{BenchmarkId, Criterion, Throughput};
use store::config::PostgresOptions;
use store::sink::{PostgresSink, Revision, Sink, SqliteSink};
use tokio::runtime::Runtime;

const BATCH_SIZES: [usize; 4] = [1, 100, 1_000, 10_000];
const DEFAULT_URL: &str = "postgres://root@127.0.0.1:5432/test";

/// Fresh symbols, so every batch inserts new keys.
static NEXT_SYMBOL: AtomicUsize = AtomicUsize::new(0);

fn fresh_batch(size: usize) -> Vec<Bar> {
    let symbol = format!("B{}", NEXT_SYMBOL.fetch_add(1, Ordering::Relaxed));
    bars::bars(&symbol, size)
}

fn csv(batch: &[Bar]) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch.len() * 96);
    for b in batch {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{}",
            b.provider,
            b.symbol,
            b.resolution,
            b.ts.to_rfc3339(),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume,
            b.delayed
        );
    }
    out
}

fn time_writes(rt: &Runtime, sink: &Arc<dyn Sink>, size: usize, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let batch = fresh_batch(size);
        let revisions = vec![Revision::new(1); batch.len()];
        let started = Instant::now();
        rt.block_on(sink.write(&batch, &revisions))
            .expect("bench write");
        total += started.elapsed();
    }
    total
}

fn psql_copy(url: &str, table: &str, size: usize, iters: u64) -> Duration {
    let copy = format!(
        "\\copy {table} (provider, symbol, resolution, ts, open, high, low, close, volume, delayed) \
         FROM STDIN WITH (FORMAT csv)"
    );
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let rows = csv(&fresh_batch(size));
        let started = Instant::now();
        let mut child = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", &copy])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("psql starts");
        child
            .stdin
            .take()
            .expect("stdin piped")
            .write_all(&rows)
            .expect("rows written to psql");
        let status = child.wait().expect("psql ends");
        total += started.elapsed();
        assert!(status.success(), "psql COPY failed");
    }
    total
}

struct Postgres {
    url: String,
    schema: String,
    sink: Arc<dyn Sink>,
}

fn postgres(rt: &Runtime) -> Option<Postgres> {
    let url = std::env::var("MDP_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let schema = format!(
        "mdp_bench_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let config = tokio_postgres::Config::from_str(&url).expect("valid url");
    let options = PostgresOptions {
        schema: schema.clone(),
        copy_threshold: NonZeroUsize::new(1_000).expect("non-zero"),
        ..PostgresOptions::default()
    };
    match rt.block_on(PostgresSink::connect(config, options)) {
        Ok(sink) => {
            psql(
                &url,
                &format!(
                    "CREATE TABLE \"{schema}\".copy_ref (LIKE \"{schema}\".bars INCLUDING ALL)"
                ),
            );
            Some(Postgres {
                url,
                schema,
                sink: Arc::new(sink),
            })
        }
        Err(e) => {
            eprintln!("\n!!!!! SKIPPING PostgreSQL benchmarks: {url} unreachable ({e}) !!!!!\n");
            None
        }
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite: Arc<dyn Sink> = Arc::new(
        rt.block_on(SqliteSink::open(dir.path().join("bench.db")))
            .expect("sqlite"),
    );
    let pg = postgres(&rt);

    let mut group = criterion.benchmark_group("sink_write");
    for size in BATCH_SIZES {
        group.throughput(Throughput::Elements(size as u64));
        group.bench_function(BenchmarkId::new("sqlite", size), |b| {
            b.iter_custom(|iters| time_writes(&rt, &sqlite, size, iters));
        });
        if let Some(pg) = &pg {
            group.bench_function(BenchmarkId::new("postgres", size), |b| {
                b.iter_custom(|iters| time_writes(&rt, &pg.sink, size, iters));
            });
            let table = format!("\"{}\".copy_ref", pg.schema);
            group.bench_function(BenchmarkId::new("psql_copy", size), |b| {
                b.iter_custom(|iters| psql_copy(&pg.url, &table, size, iters));
            });
        }
    }
    group.finish();

    if let Some(pg) = pg {
        rt.block_on(pg.sink.close()).expect("close");
        psql(
            &pg.url,
            &format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", pg.schema),
        );
    }
    criterion.final_summary();
}
