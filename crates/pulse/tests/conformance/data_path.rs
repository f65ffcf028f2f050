//! Conformance cases of the data path: retention of data streams by acknowledgement,
//! backlog, keep-alive that never steals, the reclaim cursor, whole reads, and dead letters
//! that keep the entry byte for byte.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::{BoxError, EventEnvelope, FeedbackEvent};
use pulse::{
    Backlog, CancellationToken, ConsumerRunner, Delivery, FailOutcome, Fields, Handler, Pulse,
    Retention, Subscription,
};
use tokio::time::Instant;

use super::support::{Harness, event};
use super::{DEADLINE, ack_all, sizes, wait_until};

/// A data stream: retained until acknowledged.
const DATA: &str = "marketdata.bars";

async fn publish_data(pulse: &Pulse, from: u64, n: u64) {
    let events: Vec<_> = (from..from + n)
        .map(|i| pulse.seal(&event(i), None).expect("seals"))
        .collect();
    for chunk in events.chunks(100) {
        pulse.publish_batch(DATA, chunk).await.expect("publishes");
    }
}

/// Whole reads until at least `n` deliveries arrived (or the deadline passed).
async fn read_batches(
    sub: &mut Subscription<FeedbackEvent>,
    n: usize,
) -> Vec<Delivery<FeedbackEvent>> {
    let deadline = Instant::now() + DEADLINE;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        got.extend(sub.try_next_batch().await.expect("reads"));
    }
    got
}

async fn subscribe(pulse: &Pulse, group: &str, consumer: &str) -> Subscription<FeedbackEvent> {
    pulse
        .subscribe::<FeedbackEvent>(DATA, group, consumer)
        .await
        .expect("subscribes")
}

pub(crate) async fn a_data_stream_keeps_every_unacked_entry_past_retention(h: Harness) {
    let pulse = h.pulse_with(|c| c.retention = NonZeroUsize::new(100).expect("non-zero"));
    let key = pulse.stream(DATA).key().to_owned();
    assert_eq!(pulse.stream(DATA).retention(100), Retention::Acknowledged);
    let mut a = subscribe(&pulse, "group-a", "c1").await;
    let mut b = subscribe(&pulse, "group-b", "c1").await;
    publish_data(&pulse, 0, 1000).await;
    assert_eq!(pulse.trim_acknowledged(DATA).await.expect("trims"), 0);
    assert_eq!(pulse.backend().len(&key).await.expect("len"), 1000);
    let all: Vec<u64> = (0..1000).collect();
    assert_eq!(sizes(&read_batches(&mut a, 1000).await), all);
    assert_eq!(sizes(&read_batches(&mut b, 1000).await), all);
}

pub(crate) async fn a_trim_removes_only_what_every_group_acknowledged(h: Harness) {
    let pulse = h.pulse_with(|c| c.idle_timeout = Duration::from_secs(600));
    let key = pulse.stream(DATA).key().to_owned();
    let mut a = subscribe(&pulse, "group-a", "c1").await;
    let mut b = subscribe(&pulse, "group-b", "c1").await;
    publish_data(&pulse, 0, 1000).await;
    let read_a = read_batches(&mut a, 600).await;
    assert_eq!(read_a.len(), 600);
    ack_all(&mut a, &read_a).await;
    let read_b = read_batches(&mut b, 300).await;
    assert_eq!(read_b.len(), 300);
    ack_all(&mut b, &read_b[..200]).await;
    drop((a, b));

    // B still needs its pending entries from #200 on; A everything after #599.
    let removed = pulse.trim_acknowledged(DATA).await.expect("trims");
    assert!(
        (1..=200).contains(&removed),
        "removed {removed}, never past B's oldest pending entry"
    );
    assert_eq!(
        pulse.backend().len(&key).await.expect("len"),
        1000 - removed
    );
    let mut b = subscribe(&pulse, "group-b", "c1").await;
    let again_b = read_batches(&mut b, 800).await;
    assert_eq!(sizes(&again_b), (200..1000).collect::<Vec<_>>());
    let mut a = subscribe(&pulse, "group-a", "c1").await;
    assert_eq!(
        sizes(&read_batches(&mut a, 400).await),
        (600..1000).collect::<Vec<_>>()
    );
    ack_all(&mut b, &again_b[..400]).await;
    let more = pulse.trim_acknowledged(DATA).await.expect("trims");
    assert!(removed + more <= 600, "B still needs #600 on");
    assert_eq!(
        pulse.backend().len(&key).await.expect("len"),
        1000 - removed - more
    );
}

pub(crate) async fn a_stream_without_groups_is_never_trimmed_by_acknowledgement(h: Harness) {
    let pulse = h.pulse();
    let key = pulse.stream(DATA).key().to_owned();
    publish_data(&pulse, 0, 300).await;
    assert_eq!(pulse.trim_acknowledged(DATA).await.expect("trims"), 0);
    assert_eq!(pulse.backend().len(&key).await.expect("len"), 300);
}

pub(crate) async fn backlog_counts_undelivered_and_pending(h: Harness) {
    let pulse = h.pulse_with(|c| c.read_count = NonZeroUsize::new(4).expect("non-zero"));
    assert_eq!(
        pulse.backlog(DATA, "g").await.expect("backlog"),
        Backlog::default(),
        "a missing stream"
    );
    let mut sub = subscribe(&pulse, "g", "c1").await;
    publish_data(&pulse, 0, 10).await;
    let read = read_batches(&mut sub, 8).await;
    assert_eq!(read.len(), 8);
    ack_all(&mut sub, &read[..3]).await;
    let backlog = pulse.backlog(DATA, "g").await.expect("backlog");
    assert_eq!(
        backlog,
        Backlog {
            undelivered: 2,
            pending: 5
        }
    );
    assert_eq!(backlog.total(), 7);
    assert_eq!(pulse.metrics().backlog_value("marketdata.bars", "g"), 7);
    assert_eq!(
        pulse.backlog(DATA, "nobody").await.expect("backlog"),
        Backlog::default(),
        "a missing group"
    );
}

pub(crate) async fn a_touch_never_takes_back_a_reclaimed_entry(h: Harness) {
    let pulse = h.pulse();
    let patient = h.pulse_with(|c| c.idle_timeout = Duration::from_secs(600));
    let mut a = subscribe(&pulse, "g", "a").await;
    publish_data(&pulse, 0, 1).await;
    let held = collect_one(&mut a).await;
    let mut b = subscribe(&pulse, "g", "b").await;
    let reclaimed = collect_one(&mut b).await;
    assert_eq!(reclaimed.id(), held.id());
    assert!(reclaimed.redelivered);
    drop(b);
    assert_eq!(
        a.touch(&[held.id().to_owned()]).await.expect("touches"),
        0,
        "A no longer owns it"
    );
    let mut a_again = subscribe(&patient, "g", "a").await;
    assert!(
        a_again.try_next().await.expect("reads").is_none(),
        "the entry did not go back to A"
    );
    let mut b_again = subscribe(&patient, "g", "b").await;
    let still_b = b_again
        .try_next()
        .await
        .expect("reads")
        .expect("pending with B");
    assert_eq!(still_b.id(), held.id());
}

async fn collect_one(sub: &mut Subscription<FeedbackEvent>) -> Delivery<FeedbackEvent> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(d) = sub.try_next().await.expect("reads") {
            return d;
        }
        assert!(Instant::now() < deadline, "nothing delivered");
    }
}

pub(crate) async fn a_claim_scan_resumes_after_the_last_entry_it_looked_at(h: Harness) {
    let pulse = h.pulse();
    let key = pulse.stream(DATA).key().to_owned();
    let mut doomed = subscribe(&pulse, "g", "doomed").await;
    publish_data(&pulse, 0, 5).await;
    let held = read_batches(&mut doomed, 5).await;
    let ids: Vec<String> = held.iter().map(|d| d.id().to_owned()).collect();
    drop(doomed);
    let mut reader = pulse.backend().reader().await.expect("reader");
    let mut claim = async || -> Vec<String> {
        reader
            .claim_idle(&key, "g", "heir", Duration::ZERO, 2)
            .await
            .expect("claims")
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    let first = claim().await;
    let second = claim().await;
    let third = claim().await;
    assert_eq!(first, ids[0..2]);
    assert_eq!(second, ids[2..4]);
    assert_eq!(third, ids[4..5]);
    assert_eq!(claim().await, ids[0..2], "back to the start after the end");
}

pub(crate) async fn a_dead_consumers_whole_backlog_is_reclaimed_read_after_read(h: Harness) {
    let pulse = h.pulse_with(|c| {
        c.read_count = NonZeroUsize::new(10).expect("non-zero");
        c.idle_timeout = Duration::from_secs(2);
    });
    let mut doomed = subscribe(&pulse, "g", "doomed").await;
    publish_data(&pulse, 0, 50).await;
    assert_eq!(read_batches(&mut doomed, 50).await.len(), 50);
    drop(doomed);
    let mut heir = subscribe(&pulse, "g", "heir").await;
    let deadline = Instant::now() + DEADLINE;
    let first = loop {
        let batch = heir.try_next_batch().await.expect("reads");
        if !batch.is_empty() || Instant::now() >= deadline {
            break batch;
        }
    };
    assert_eq!(first.len(), 10, "the first claim takes one read's worth");
    // Each following read claims the next ten at once, not half an idle timeout later.
    let mut sizes_seen = vec![first.len()];
    for _ in 0..4 {
        let batch = heir.try_next_batch().await.expect("reads");
        assert!(batch.iter().all(|d| d.redelivered));
        sizes_seen.push(batch.len());
    }
    assert_eq!(sizes_seen, [10, 10, 10, 10, 10]);
}

pub(crate) async fn a_batch_read_hands_out_the_whole_read(h: Harness) {
    let pulse = h.pulse_with(|c| c.read_count = NonZeroUsize::new(5).expect("non-zero"));
    let key = pulse.stream(DATA).key().to_owned();
    let mut sub = subscribe(&pulse, "g", "c1").await;
    publish_data(&pulse, 0, 12).await;
    let mut batches = Vec::new();
    loop {
        let batch = sub.try_next_batch().await.expect("reads");
        if batch.is_empty() {
            break;
        }
        batches.push(sizes(&batch));
    }
    assert_eq!(
        batches,
        vec![(0..5).collect::<Vec<_>>(), (5..10).collect(), vec![10, 11]]
    );
    assert!(
        sub.try_next().await.expect("reads").is_none(),
        "nothing was left buffered"
    );
    assert_eq!(
        pulse.backend().pending(&key, "g").await.expect("pending"),
        12
    );
}

pub(crate) async fn entries_read_ahead_by_the_runner_are_not_reclaimed(h: Harness) {
    struct FirstWaits {
        calls: AtomicU64,
        release: tokio::sync::Notify,
    }
    #[async_trait]
    impl Handler<FeedbackEvent> for FirstWaits {
        async fn handle(&self, _event: &EventEnvelope<FeedbackEvent>) -> Result<(), BoxError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                self.release.notified().await;
            }
            Ok(())
        }
    }
    let pulse = h.pulse_with(|c| c.idle_timeout = super::IN_HAND_IDLE);
    let key = pulse.stream(DATA).key().to_owned();
    let handler = Arc::new(FirstWaits {
        calls: AtomicU64::new(0),
        release: tokio::sync::Notify::new(),
    });
    publish_data(&pulse, 0, 2).await;
    let stop = CancellationToken::new();
    let worker = tokio::spawn(
        ConsumerRunner::new(pulse.clone(), DATA, "g", "worker", handler.clone()).run(stop.clone()),
    );
    wait_until(|| async { handler.calls.load(Ordering::SeqCst) == 1 }).await;
    let mut rival = subscribe(&pulse, "g", "rival").await;
    let until = Instant::now() + 4 * super::IN_HAND_IDLE;
    while Instant::now() < until {
        assert!(
            rival.try_next().await.expect("reads").is_none(),
            "the rival reclaimed an entry the runner had read ahead"
        );
    }
    handler.release.notify_one();
    wait_until(|| async { pulse.backend().pending(&key, "g").await.expect("pending") == 0 }).await;
    stop.cancel();
    let report = worker.await.expect("runner ends");
    assert_eq!((report.handled, report.duplicates), (2, 0));
    assert_eq!(handler.calls.load(Ordering::SeqCst), 2);
}

fn field(name: &[u8], value: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (name.to_vec(), value.to_vec())
}

pub(crate) async fn undecodable_entries_are_dead_lettered_and_replayed_byte_for_byte(h: Harness) {
    let pulse = h.pulse();
    let key = pulse.stream(DATA).key().to_owned();
    let mut sub = subscribe(&pulse, "g", "c1").await;
    let originals: Vec<Fields> = vec![
        vec![field(b"payload", b"{\"x\":1}")],
        vec![field(b"data", &[0xff, 0xfe, b'{', 0x00])],
        vec![field(b"reason", b"theirs"), field(b"original.x", &[0x80])],
    ];
    pulse
        .backend()
        .publish_raw(&key, &originals, Retention::Acknowledged)
        .await
        .expect("publishes");
    publish_data(&pulse, 7, 1).await;
    assert_eq!(sizes(&read_batches(&mut sub, 1).await), vec![7]);
    let dead = pulse.dead_letters(DATA, 10).await.expect("lists");
    let fields: Vec<Fields> = dead.iter().map(|d| d.fields.clone()).collect();
    assert_eq!(fields, originals);
    assert!(dead.iter().all(|d| d.reason.starts_with("malformed")));

    assert_eq!(
        pulse.replay_dead_letters(DATA, 10).await.expect("replays"),
        3
    );
    assert!(sub.try_next_batch().await.expect("reads").is_empty());
    let again: Vec<Fields> = pulse
        .dead_letters(DATA, 10)
        .await
        .expect("lists")
        .into_iter()
        .map(|d| d.fields)
        .collect();
    assert_eq!(
        again, originals,
        "replayed and dead-lettered again, unchanged"
    );
}

pub(crate) async fn a_failed_entry_is_dead_lettered_with_every_field(h: Harness) {
    let pulse = h.pulse_with(|c| c.max_deliveries = NonZeroU32::MIN);
    let key = pulse.stream(DATA).key().to_owned();
    let mut sub = subscribe(&pulse, "g", "c1").await;
    let data = serde_json::to_vec(&pulse.seal(&event(3), None).expect("seals")).expect("encodes");
    let original = vec![
        field(b"data", &data),
        field(b"trace", &[0xde, 0xad, 0xbe, 0xef]),
    ];
    pulse
        .backend()
        .publish_raw(
            &key,
            std::slice::from_ref(&original),
            Retention::Acknowledged,
        )
        .await
        .expect("publishes");
    let d = collect_one(&mut sub).await;
    assert_eq!(
        sub.fail(&d, "boom").await.expect("fails"),
        FailOutcome::DeadLettered { deliveries: 1 }
    );
    let dead = pulse.dead_letters(DATA, 10).await.expect("lists");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].fields, original);
    assert_eq!(dead[0].data(), Some(data.as_slice()));
}
