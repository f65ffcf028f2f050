//! Behaviour of the FeedbackBus: fan-out, isolation of slow and failing subscribers, and the
//! queue never waiting on a subscriber.

mod support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::{BackpressureLevel, BoxError, FeedbackEvent, FeedbackPublisher};
use store::feedback::FeedbackBus;
use store::queue::BoundedQueue;
use support::nz;
use tokio::time::Instant;

fn event(seq: u64) -> FeedbackEvent {
    FeedbackEvent::new("c1", seq, 10, BackpressureLevel::Soft, 1.0)
        .expect("valid event")
        .with_seq(seq)
}

#[tokio::test]
async fn every_subscriber_receives_every_event_in_order() {
    let bus = FeedbackBus::new();
    let mut a = bus.subscribe("a");
    let mut b = bus.subscribe("b");
    assert_eq!(bus.subscriber_count(), 2);
    for seq in 0..5 {
        bus.publish(event(seq));
    }
    for sub in [&mut a, &mut b] {
        for seq in 0..5 {
            assert_eq!(sub.recv().await.and_then(|e| e.seq), Some(seq));
        }
    }
    drop(a);
    assert_eq!(bus.subscriber_count(), 1);
}

#[tokio::test]
async fn a_full_mailbox_drops_its_oldest_events() {
    let bus = FeedbackBus::new();
    let mut sub = bus.subscribe_with_buffer("small", nz(2));
    for seq in 0..5 {
        bus.publish(event(seq));
    }
    assert_eq!(sub.dropped(), 3);
    assert_eq!(sub.try_recv().and_then(|e| e.seq), Some(3));
    assert_eq!(sub.try_recv().and_then(|e| e.seq), Some(4));
    assert_eq!(sub.try_recv(), None);
}

struct Slow;

#[async_trait]
impl FeedbackPublisher for Slow {
    async fn publish(&self, _event: FeedbackEvent) -> Result<(), BoxError> {
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(())
    }
}

struct Failing;

#[async_trait]
impl FeedbackPublisher for Failing {
    async fn publish(&self, _event: FeedbackEvent) -> Result<(), BoxError> {
        Err("subscriber is down".into())
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_subscriber_does_not_slow_puts() {
    let bus = FeedbackBus::new();
    let slow = bus.attach("slow", Arc::new(Slow));
    let failing = bus.attach("failing", Arc::new(Failing));
    let mut fast = bus.subscribe("fast");
    let publish_bus = bus.clone();
    let queue = BoundedQueue::builder(nz(10))
        .watermarks(Some(8), Some(4))
        .on_signal(move |s| {
            let ev = FeedbackEvent::new("c1", s.size as u64, 10, s.level, 1.0)
                .expect("valid event")
                .with_seq(s.seq);
            publish_bus.publish(ev);
        })
        .build()
        .expect("valid queue");

    let started = Instant::now();
    let cycles = 100;
    for _ in 0..cycles {
        for i in 0..10 {
            queue.put(i).await.expect("room");
        }
        for _ in 0..10 {
            queue.get().await.expect("item");
        }
        // Let the subscriber tasks run (the slow one starts its 1 s sleeps).
        tokio::task::yield_now().await;
    }
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "puts and gets never waited on a subscriber"
    );

    // The fast subscriber got every event, in order, despite its slow and failing peers.
    let mut seqs = Vec::new();
    while let Some(ev) = fast.try_recv() {
        seqs.push(ev.seq.expect("seq"));
    }
    assert_eq!(seqs.len(), 3 * cycles);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert!(failing.stats().failed > 0);
    assert!(slow.stats().published <= 1);
}

#[tokio::test]
async fn closing_the_bus_ends_subscriptions() {
    let bus = FeedbackBus::new();
    let mut sub = bus.subscribe("a");
    bus.publish(event(1));
    bus.close();
    assert_eq!(sub.recv().await.and_then(|e| e.seq), Some(1));
    assert_eq!(sub.recv().await, None);
    assert_eq!(bus.subscriber_count(), 0);
}
