//! Conformance cases of broadcast readers: every reader sees every entry, starts from the
//! stream's recent history, and leaves no group or pending entry behind.

use core_contracts::FeedbackEvent;
use pulse::{Broadcast, Pulse, broadcast};
use tokio::time::Instant;

use super::support::{Harness, event};
use super::{DEADLINE, STREAM, publish_n};

fn queue_sizes(events: &[core_contracts::EventEnvelope<FeedbackEvent>]) -> Vec<u64> {
    events.iter().map(|e| e.payload.queue_size).collect()
}

/// Batches until `n` events arrived or the deadline passed.
async fn follow(reader: &mut Broadcast<FeedbackEvent>, n: usize) -> Vec<u64> {
    let deadline = Instant::now() + DEADLINE;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        got.extend(queue_sizes(&reader.try_next_batch().await.expect("reads")));
    }
    got
}

async fn reader(pulse: &Pulse) -> Broadcast<FeedbackEvent> {
    pulse
        .broadcast::<FeedbackEvent>(STREAM)
        .await
        .expect("opens a broadcast reader")
}

pub(crate) async fn every_broadcast_reader_sees_every_event(h: Harness) {
    let pulse = h.pulse();
    let mut a = reader(&pulse).await;
    let mut b = reader(&pulse).await;
    assert_eq!(a.cursor(), broadcast::START);
    publish_n(&pulse, 5).await;
    assert_eq!(follow(&mut a, 5).await, vec![0, 1, 2, 3, 4]);
    assert_eq!(follow(&mut b, 5).await, vec![0, 1, 2, 3, 4]);
    publish_n(&pulse, 2).await;
    assert_eq!(follow(&mut a, 2).await, vec![0, 1]);
    assert_eq!(follow(&mut b, 2).await, vec![0, 1]);
    // Nothing is pending anywhere and no group was created: a reader that goes leaves
    // nothing behind.
    let key = pulse.stream(STREAM).key().to_owned();
    let backlog = pulse
        .backend()
        .backlog(&key, "pipeline")
        .await
        .expect("backlog");
    assert_eq!((backlog.undelivered, backlog.pending), (0, 0));
    assert_eq!(pulse.backend().len(&key).await.expect("len"), 7);
}

pub(crate) async fn a_broadcast_reader_starts_from_the_recent_history(h: Harness) {
    let pulse = h.pulse();
    let mut empty = reader(&pulse).await;
    assert!(empty.history(10).await.expect("reads").is_empty());
    assert_eq!(
        empty.cursor(),
        broadcast::START,
        "an empty stream: from the start"
    );
    publish_n(&pulse, 8).await;
    let mut late = reader(&pulse).await;
    let history = late.history(3).await.expect("reads history");
    assert_eq!(
        queue_sizes(&history),
        vec![5, 6, 7],
        "the newest three, oldest first"
    );
    assert_eq!(late.cursor(), history[2].id);
    pulse
        .publish(STREAM, &event(100), Some("bars-coord"))
        .await
        .expect("publishes");
    assert_eq!(
        follow(&mut late, 1).await,
        vec![100],
        "then what follows, once"
    );
    assert_eq!(
        follow(&mut empty, 9).await,
        vec![0, 1, 2, 3, 4, 5, 6, 7, 100]
    );
}

pub(crate) async fn a_broadcast_reader_skips_what_it_cannot_decode(h: Harness) {
    let pulse = h.pulse();
    let mut r = reader(&pulse).await;
    let key = pulse.stream(STREAM).key().to_owned();
    pulse
        .backend()
        .publish(&key, "not json", pulse.retention(&pulse.stream(STREAM)))
        .await
        .expect("publishes garbage");
    publish_n(&pulse, 1).await;
    assert_eq!(follow(&mut r, 1).await, vec![0]);
    assert_eq!(
        pulse.backend().len(&key).await.expect("len"),
        2,
        "left in place"
    );
}
