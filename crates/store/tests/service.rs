//! [`StoreService`] in process on the in-memory bus: an entry is acknowledged only once its
//! bar is written or dead-lettered; a stop with the sink down leaves every entry it held
//! pending on the bus, and the next run of the consumer takes them again and writes them.

use std::sync::Arc;
use std::time::Duration;

use bus::{backlog, publish};
use core_contracts::Bar;
use pulse::backend::memory::InMemoryBus;
use pulse::testing::wait_for;
use pulse::{Pulse, PulseConfig};
use store::config::StoreSettings;
use store::service::StoreService;
use store::sink::{MemorySink, SinkError};

#[path = "support/bars.rs"]
mod bars;
#[path = "support/bus.rs"]
mod bus;

const LONG: Duration = Duration::from_secs(30);

fn memory_bus() -> Pulse {
    Pulse::new(Arc::new(InMemoryBus::new()), PulseConfig::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lettered_bar_is_acknowledged_with_the_written_ones_and_kept_in_its_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pulse = memory_bus();
    let sink = Arc::new(MemorySink::new());
    let all = bars::bars("AAPL", 50);
    let poison = all[17].clone();
    sink.reject(poison.key());
    let dead_letters = dir.path().join("dead-letters.ndjson");
    let service = StoreService::builder(StoreSettings::default(), sink.clone(), pulse.clone())
        .consumer("store-a")
        .dead_letters(&dead_letters)
        .start()
        .await
        .expect("starts");
    publish(&pulse, &all).await;
    assert!(
        wait_for(LONG, || async { backlog(&pulse).await.total() == 0 }).await,
        "{:?}",
        backlog(&pulse).await
    );
    let report = service.stop_within(Duration::from_secs(5)).await;
    let mut written: Vec<Bar> = all.iter().filter(|b| **b != poison).cloned().collect();
    written.sort_by_key(|b| b.ts);
    assert_eq!(
        sink.bars(),
        written,
        "every other bar written, values intact"
    );
    assert_eq!(report.taken, 50);
    assert_eq!(
        report.acked, 50,
        "the dead-lettered entry is acknowledged too"
    );
    assert_eq!(report.dead_lettered, 1);
    assert_eq!(report.unwritten, 0);
    let records = store::dead_letter::read_records(&dead_letters)
        .await
        .expect("the dead-letter file");
    let kept: Vec<Bar> = records.into_iter().flat_map(|r| r.items).collect();
    assert_eq!(kept, [poison], "the poison bar is kept for replay");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_with_the_sink_down_leaves_the_entries_pending_for_the_next_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pulse = memory_bus();
    let down = Arc::new(MemorySink::new());
    down.set_failing(Some(SinkError::Transient("database restarting".into())));
    let all = bars::bars("MSFT", 40);
    let first = StoreService::builder(StoreSettings::default(), down.clone(), pulse.clone())
        .consumer("store-a")
        .dead_letters(dir.path().join("dead-letters.ndjson"))
        .start()
        .await
        .expect("starts");
    publish(&pulse, &all).await;
    assert!(
        wait_for(LONG, || async { backlog(&pulse).await.pending == 40 }).await,
        "the store holds every entry: {:?}",
        backlog(&pulse).await
    );
    let report = first.stop_within(Duration::from_millis(300)).await;
    assert_eq!(report.unwritten, 40, "{report:?}");
    assert_eq!(report.acked, 0, "nothing unwritten is acknowledged");
    assert!(down.is_empty());
    assert_eq!(backlog(&pulse).await.pending, 40, "left pending on the bus");

    let sink = Arc::new(MemorySink::new());
    let second = StoreService::builder(StoreSettings::default(), sink.clone(), pulse.clone())
        .consumer("store-a")
        .dead_letters(dir.path().join("dead-letters.ndjson"))
        .start()
        .await
        .expect("starts again");
    assert!(
        wait_for(LONG, || async { backlog(&pulse).await.total() == 0 }).await,
        "{:?}",
        backlog(&pulse).await
    );
    let report = second.stop_within(Duration::from_secs(5)).await;
    assert_eq!(sink.bars(), all, "every bar written, values intact");
    assert_eq!(report.taken, 40);
    assert_eq!(report.redelivered, 40, "each one a redelivery");
    assert_eq!(report.acked, 40);
    assert_eq!(report.dead_lettered, 0);
    assert_eq!(report.unwritten, 0);
    let dead = std::fs::read_to_string(dir.path().join("dead-letters.ndjson")).unwrap_or_default();
    assert!(dead.is_empty(), "nothing dead-lettered: {dead}");
}
