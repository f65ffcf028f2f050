//! Revisions through the WriteCoordinator and the dead-letter file: whatever order concurrent
//! workers write in, the sink ends with the newest revision of every key; dead-lettered bars
//! keep their revisions, and a replay writes them.

mod support;

use std::sync::Arc;
use std::time::Duration;

use core_contracts::{Bar, ManualClock};
use store::coordinator::{Ticket, WriteCoordinator};
use store::dead_letter::{DeadLetterFile, DeadLetterRecord, read_records, replay};
use store::sink::{MemorySink, Revision, RevisionGenerator, Sink};
use support::{bar, config};

const KEYS: usize = 16;
const REVISIONS: usize = 40;

/// Bar `key` at revision `revision` (1-based): its volume tells the revision.
fn revised(key: usize, revision: usize) -> Bar {
    Bar {
        volume: rust_decimal::Decimal::from(revision),
        ..bar(key)
    }
}

fn generator() -> RevisionGenerator {
    RevisionGenerator::new(Arc::new(ManualClock::new(1_714_570_200.0)))
}

#[tokio::test(start_paused = true)]
async fn four_workers_writing_many_revisions_of_the_same_keys_end_with_the_highest_of_each() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::with_throttle(Duration::from_millis(3)));
    let coord = WriteCoordinator::builder(config(dir.path(), 4, 7), sink.clone())
        .start()
        .expect("valid config");
    // Every key's revisions in a scrambled order, so older ones often follow newer ones.
    let mut tagged = Vec::with_capacity(KEYS * REVISIONS);
    for round in 0..REVISIONS {
        for key in 0..KEYS {
            let revision = (round * 17 + key * 7) % REVISIONS + 1;
            let ticket = Ticket::from(format!("{key}-{revision}"));
            let rev = Revision::new(i64::try_from(revision).expect("small"));
            tagged.push((revised(key, revision), ticket, rev));
        }
    }
    coord.submit_tagged(tagged).await.expect("accepted");
    let stats = coord.stop(true).await;
    assert_eq!(stats.written, (KEYS * REVISIONS) as u64);
    assert_eq!(sink.len(), KEYS);
    for key in 0..KEYS {
        let top = revised(key, REVISIONS);
        assert_eq!(
            sink.revision(&top.key()),
            Some(Revision::new(REVISIONS as i64)),
            "key {key}"
        );
        let stored = sink.bars().into_iter().find(|b| b.key() == top.key());
        assert_eq!(
            stored,
            Some(top),
            "key {key} holds the values of its newest revision"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn untagged_bars_take_revisions_in_submission_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(MemorySink::with_throttle(Duration::from_millis(3)));
    let coord = WriteCoordinator::builder(config(dir.path(), 4, 3), sink.clone())
        .start()
        .expect("valid config");
    let first = coord.next_revision();
    for revision in 1..=REVISIONS {
        coord
            .submit_many((0..KEYS).map(|key| revised(key, revision)).collect())
            .await
            .expect("accepted");
    }
    let after = coord.next_revision();
    coord.stop(true).await;
    assert_eq!(sink.len(), KEYS);
    for key in 0..KEYS {
        let last = revised(key, REVISIONS);
        let revision = sink.revision(&last.key()).expect("stored");
        assert!(
            first < revision && revision < after,
            "key {key}: {revision:?}"
        );
        let stored = sink.bars().into_iter().find(|b| b.key() == last.key());
        assert_eq!(stored, Some(last), "key {key} holds the last submitted bar");
    }
}

#[tokio::test]
async fn dead_lettered_bars_keep_their_revisions_and_replay_never_overwrites_a_newer_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dead-letters.ndjson");
    let sink = Arc::new(MemorySink::new());
    sink.reject(bar(2).key());
    let coord = WriteCoordinator::builder(config(dir.path(), 1, 5), sink.clone())
        .start()
        .expect("valid config");
    let tagged = (0..5)
        .map(|i| {
            let revision = Revision::new(10 + i64::try_from(i).expect("small"));
            (bar(i), Ticket::from(format!("t{i}")), revision)
        })
        .collect();
    coord.submit_tagged(tagged).await.expect("accepted");
    coord.stop(true).await;

    let records = read_records(&path).await.expect("readable");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].items, [bar(2)]);
    assert_eq!(records[0].revisions, Some(vec![Revision::new(12)]));

    let target = MemorySink::new();
    target
        .write(&[revised(2, 99)], &[Revision::new(20)])
        .await
        .expect("a newer revision is stored");
    let report = replay(&path, &target, &generator())
        .await
        .expect("replayed");
    assert_eq!(report.bars_written, 1);
    assert_eq!(target.bars(), [revised(2, 99)], "revision 12 lost to 20");
    assert_eq!(target.revision(&bar(2).key()), Some(Revision::new(20)));
}

#[tokio::test]
async fn the_dead_letter_file_round_trips_revisions_and_reads_records_without_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dl.ndjson");
    let file = DeadLetterFile::new(&path);
    let with = DeadLetterRecord::new("c", "boom", "permanent", 1, vec![bar(0), bar(1)], 1.0)
        .with_revisions(vec![Revision::new(7), Revision::new(3)]);
    let without = DeadLetterRecord::new("c", "boom", "permanent", 1, vec![bar(2)], 1.0);
    assert!(
        !serde_json::to_string(&without)
            .expect("encodes")
            .contains("revisions"),
        "a record without revisions reads as an older file's"
    );
    file.append(&with).await.expect("appended");
    file.append(&without).await.expect("appended");
    let json = std::fs::read_to_string(&path).expect("readable");
    assert!(json.contains(r#""revisions":[7,3]"#), "{json}");

    let records = read_records(&path).await.expect("readable");
    assert_eq!(records, [with, without]);
}

#[tokio::test]
async fn replaying_a_record_without_revisions_wins_with_fresh_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dl.ndjson");
    let old = DeadLetterRecord::new("c", "boom", "transient", 1, vec![revised(0, 1)], 1.0);
    DeadLetterFile::new(&path)
        .append(&old)
        .await
        .expect("appended");
    let target = MemorySink::new();
    let stream = Revision::from_entry_id("1714570199999-3").expect("stream id");
    target
        .write(&[revised(0, 2)], &[stream])
        .await
        .expect("stored");
    let revisions = generator();
    let report = replay(&path, &target, &revisions).await.expect("replayed");
    assert!(report.is_complete());
    assert_eq!(target.bars(), [revised(0, 1)], "the replayed bar wins");
    let stored = target.revision(&bar(0).key()).expect("stored");
    assert!(stored > stream && stored < revisions.next(), "{stored:?}");
}

#[tokio::test]
async fn replay_keeps_a_record_whose_revisions_do_not_match_its_bars() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dl.ndjson");
    let broken = DeadLetterRecord::new("c", "boom", "permanent", 1, vec![bar(0), bar(1)], 1.0)
        .with_revisions(vec![Revision::new(1)]);
    DeadLetterFile::new(&path)
        .append(&broken)
        .await
        .expect("appended");
    let target = MemorySink::new();
    let report = replay(&path, &target, &generator())
        .await
        .expect("replayed");
    assert_eq!(report.lines_undecodable, 1);
    assert!(target.is_empty());
    assert_eq!(read_records(&path).await.expect("readable"), [broken]);
}
