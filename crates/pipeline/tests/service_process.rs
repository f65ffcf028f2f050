//! The `embed_pipeline` example (a program that embeds
//! [`pipeline::service::PipelineService`]) as a real process over a private Redis, on the
//! defaults a user runs, feeding a [`store::service::StoreService`] embedded in the test:
//! every bar of the source arrives, value by value, nothing stays pending, and a second run
//! on the same checkpoint publishes only the bars after it.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use core_contracts::Bar;
use pipeline::PipelineSettings;
use pipeline::config::SourceKind;
use pipeline::source::SyntheticSource;
use pulse::stream::{BARS, STORE_GROUP};
use pulse::testing::{RedisServer, example_binary, wait_for};
use store::config::StoreSettings;
use store::service::StoreService;
use store::sink::MemorySink;

/// Generous for a debug build on a loaded 2-core machine.
const LONG: Duration = Duration::from_secs(120);

/// The first `n` bars the example publishes on the defaults.
fn source(n: usize) -> Vec<Bar> {
    let settings = PipelineSettings::from_lookup(&|_| None).expect("the defaults");
    let SourceKind::Synthetic {
        seed,
        symbols,
        resolution,
    } = settings.source.kind
    else {
        panic!("the default source is synthetic");
    };
    let mut bars: Vec<Bar> =
        SyntheticSource::new(settings.feedback.provider_name, symbols, resolution, seed)
            .expect("the default source")
            .take(n)
            .collect();
    bars.sort_by_key(Bar::key);
    bars
}

/// Runs the example to its end: `published <n>`.
fn run_example(redis: &str, bars: usize, checkpoint: &Path) -> String {
    let output = Command::new(example_binary("pipeline", "embed_pipeline"))
        .arg(bars.to_string())
        .arg(checkpoint)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("EVENT_BUS_BACKEND", "redis")
        .env("REDIS_URL", redis)
        .env("RUST_LOG", "info")
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_pipeline_publishes_every_bar_once_and_resumes_after_its_checkpoint() {
    let Some(redis) = RedisServer::try_start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let checkpoint = dir.path().join("pipeline.checkpoint");
    let pulse = redis.pulse().await;
    let sink = Arc::new(MemorySink::new());
    let store = StoreService::builder(StoreSettings::default(), sink.clone(), pulse.clone())
        .dead_letters(dir.path().join("dead-letters.ndjson"))
        .start()
        .await
        .expect("the store starts");
    let unsettled = || async {
        pulse
            .backlog(BARS, STORE_GROUP)
            .await
            .expect("the backlog")
            .total()
    };

    // The memory sink lists its bars in key order, as `source` does.
    let all_written = |n: usize| {
        let want = source(n);
        let (sink, unsettled) = (&sink, &unsettled);
        async move {
            let done = wait_for(LONG, || async {
                sink.bars() == want && unsettled().await == 0
            })
            .await;
            assert!(
                done,
                "{} bars in the sink, {} unsettled",
                sink.len(),
                unsettled().await
            );
        }
    };

    assert_eq!(run_example(&redis.url(), 500, &checkpoint), "published 500");
    all_written(500).await;
    assert_eq!(
        run_example(&redis.url(), 800, &checkpoint),
        "published 800",
        "the second run counts the first"
    );
    all_written(800).await;
    let report = store.stop_within(Duration::from_secs(10)).await;
    assert_eq!(report.taken, 800, "each bar published once: {report:?}");
    assert_eq!(report.acked, 800, "{report:?}");
    assert_eq!(report.redelivered, 0, "{report:?}");
    assert_eq!(report.dead_lettered, 0, "{report:?}");
    assert_eq!(report.unwritten, 0, "{report:?}");
    assert_eq!(unsettled().await, 0);
}
