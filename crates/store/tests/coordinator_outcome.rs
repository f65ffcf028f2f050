//! The WriteCoordinator reports the fate of every batch: written, or dead-lettered to a named
//! file, whichever path led there (a failed write, `drop_oldest`, a stop without drain); and
//! a callback that panics changes nothing about the batch.

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use core_contracts::{Bar, BarKey};
use store::coordinator::{BatchOutcome, WriteCoordinator};
use store::dead_letter::read_records;
use store::queue::OverflowStrategy;
use store::sink::{MemorySink, SinkError};
use support::{bar, bars, config, nz};

/// One reported outcome, owned.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Written(Vec<BarKey>),
    DeadLettered(Vec<BarKey>, PathBuf, String),
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Seen>>);

impl Recorder {
    fn callback(self: &Arc<Self>) -> impl Fn(BatchOutcome<'_>) + Send + Sync + 'static {
        let this = Arc::clone(self);
        move |outcome| {
            let keys = outcome.bars().iter().map(Bar::key).collect();
            let seen = match outcome {
                BatchOutcome::Written { .. } => Seen::Written(keys),
                BatchOutcome::DeadLettered {
                    file, error_type, ..
                } => Seen::DeadLettered(keys, file.to_owned(), error_type.to_owned()),
            };
            this.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(seen);
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn written(&self) -> Vec<BarKey> {
        self.seen()
            .into_iter()
            .filter_map(|s| match s {
                Seen::Written(keys) => Some(keys),
                Seen::DeadLettered(..) => None,
            })
            .flatten()
            .collect()
    }

    fn dead_lettered(&self) -> Vec<(BarKey, PathBuf, String)> {
        self.seen()
            .into_iter()
            .filter_map(|s| match s {
                Seen::DeadLettered(keys, file, kind) => Some(
                    keys.into_iter()
                        .map(move |k| (k, file.clone(), kind.clone()))
                        .collect::<Vec<_>>(),
                ),
                Seen::Written(_) => None,
            })
            .flatten()
            .collect()
    }
}

fn keys(bars: &[Bar]) -> Vec<BarKey> {
    bars.iter().map(Bar::key).collect()
}

#[tokio::test(start_paused = true)]
async fn every_batch_is_reported_as_written_or_dead_lettered_to_its_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("dead-letters.ndjson");
    let sink = Arc::new(MemorySink::new());
    sink.reject(bar(7).key());
    let recorder = Arc::new(Recorder::default());
    let coord = WriteCoordinator::builder(config(dir.path(), 1, 5), sink.clone())
        .on_outcome(recorder.callback())
        .start()
        .expect("valid config");
    let submitted = bars(20);
    coord
        .submit_many(submitted.clone())
        .await
        .expect("accepted");
    let stats = coord.stop(true).await;

    let records = read_records(&file).await.expect("readable");
    let in_file: Vec<BarKey> = records.iter().flat_map(|r| keys(&r.items)).collect();
    assert_eq!(
        in_file,
        vec![bar(7).key()],
        "only the poison bar failed for good"
    );
    let dead = recorder.dead_lettered();
    assert_eq!(
        dead,
        in_file
            .iter()
            .map(|k| (k.clone(), file.clone(), "permanent".to_owned()))
            .collect::<Vec<_>>(),
        "the dead-lettered bars are reported with their file and the error type"
    );
    let mut reported = recorder.written();
    assert_eq!(reported.len(), 19);
    assert_eq!(
        reported,
        keys(&sink.bars()),
        "written bars reported as written"
    );
    reported.extend(in_file);
    reported.sort();
    let mut all = keys(&submitted);
    all.sort();
    assert_eq!(reported, all, "every bar reported exactly once");
    assert_eq!((stats.written, stats.dead_lettered), (19, 1));
}

#[tokio::test(start_paused = true)]
async fn bars_dropped_by_drop_oldest_are_reported_dead_lettered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::new());
    sink.set_failing(Some(SinkError::Transient("down".into())));
    let recorder = Arc::new(Recorder::default());
    let mut cfg = config(dir.path(), 1, 1);
    cfg.capacity = nz(3);
    cfg.overflow = OverflowStrategy::DropOldest;
    let coord = WriteCoordinator::builder(cfg, sink.clone())
        .on_outcome(recorder.callback())
        .start()
        .expect("valid config");
    coord.submit_many(bars(10)).await.expect("accepted");
    let stats = coord.stop(false).await;
    let dead = recorder.dead_lettered();
    assert_eq!(dead.len() as u64, stats.dead_lettered);
    assert_eq!(stats.written, 0);
    assert!(stats.dropped > 0, "{stats:?}");
    assert!(
        dead.iter().any(|(_, _, kind)| kind == "drop_oldest"),
        "{dead:?}"
    );
    assert_eq!(stats.submitted, stats.dead_lettered, "{stats:?}");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_outcome_callback_neither_loses_nor_repeats_a_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::new());
    let coord = WriteCoordinator::builder(config(dir.path(), 2, 10), sink.clone())
        .on_outcome(|_| panic!("callback bug"))
        .start()
        .expect("valid config");
    coord.submit_many(bars(50)).await.expect("accepted");
    coord.submit(bar(50)).await.expect("accepted");
    let stats = coord.stop(true).await;
    assert_eq!(sink.len(), 51);
    assert_eq!(
        (stats.written, stats.dead_lettered, stats.worker_restarts),
        (51, 0, 0)
    );
    assert!(!dir.path().join("dead-letters.ndjson").exists());
}
