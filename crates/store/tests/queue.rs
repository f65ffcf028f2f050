//! Behaviour of the bounded queue: overflow strategies, signals through real puts and gets,
//! hooks called outside the lock, closing.

mod support;

use std::sync::{Arc, Mutex, OnceLock};

use core_contracts::BackpressureLevel;
use store::queue::{BoundedQueue, OverflowStrategy, PutError, QueueSignal};
use support::nz;

#[tokio::test]
async fn drop_oldest_hands_dropped_items_to_the_callback_oldest_first() {
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&dropped);
    let queue = BoundedQueue::builder(nz(3))
        .overflow(OverflowStrategy::DropOldest)
        .on_drop(move |item| sink.lock().expect("lock").push(item))
        .build()
        .expect("valid queue");
    for i in 1..=7 {
        queue.put(i).await.expect("drop_oldest never refuses");
    }
    assert_eq!(*dropped.lock().expect("lock"), vec![1, 2, 3, 4]);
    assert_eq!(queue.dropped(), 4);
    assert_eq!(queue.take(10), vec![5, 6, 7]);
}

#[tokio::test]
async fn error_strategy_refuses_with_queue_full_and_returns_the_item() {
    let queue = BoundedQueue::builder(nz(2))
        .overflow(OverflowStrategy::Error)
        .build()
        .expect("valid queue");
    queue.put("a").await.expect("room");
    queue.put("b").await.expect("room");
    match queue.put("c").await {
        Err(PutError::QueueFull(item)) => assert_eq!(item, "c"),
        other => panic!("expected QueueFull, got {other:?}"),
    }
    assert_eq!(queue.len(), 2);
    assert_eq!(queue.dropped(), 0);
}

#[tokio::test(start_paused = true)]
async fn block_strategy_waits_for_room() {
    let queue = BoundedQueue::new(nz(1));
    queue.put(1).await.expect("room");
    let q = queue.clone();
    let blocked = tokio::spawn(async move { q.put(2).await });
    tokio::task::yield_now().await;
    assert!(!blocked.is_finished(), "put must wait on a full queue");
    assert_eq!(queue.get().await, Some(1));
    blocked.await.expect("task").expect("put after room");
    assert_eq!(queue.get().await, Some(2));
}

#[tokio::test]
async fn signals_follow_the_watermark_table_on_real_puts_and_gets() {
    let seen = Arc::new(Mutex::new(Vec::<QueueSignal>::new()));
    let sink = Arc::clone(&seen);
    let queue = BoundedQueue::builder(nz(10))
        .watermarks(Some(8), Some(4))
        .on_signal(move |s| sink.lock().expect("lock").push(s))
        .build()
        .expect("valid queue");
    for round in 0..2 {
        for i in 0..10 {
            queue.put(i).await.expect("room");
        }
        for _ in 0..10 {
            queue.get().await.expect("item");
        }
        let signals = std::mem::take(&mut *seen.lock().expect("lock"));
        let got: Vec<_> = signals
            .iter()
            .map(|s| (s.level, s.size, s.reason))
            .collect();
        assert_eq!(
            got,
            vec![
                (BackpressureLevel::Soft, 5, "soft_watermark"),
                (BackpressureLevel::Hard, 8, "high_watermark"),
                (BackpressureLevel::Ok, 4, "queue_recovered"),
            ],
            "round {round}"
        );
        assert!(signals.windows(2).all(|w| w[0].seq < w[1].seq));
    }
}

#[tokio::test]
async fn hooks_run_outside_the_lock() {
    let slot: Arc<OnceLock<BoundedQueue<u32>>> = Arc::new(OnceLock::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (hook_slot, hook_seen) = (Arc::clone(&slot), Arc::clone(&seen));
    let queue = BoundedQueue::builder(nz(2))
        .watermarks(Some(2), Some(1))
        .on_signal(move |_| {
            // Would deadlock if the queue still held its lock.
            let len = hook_slot.get().map(BoundedQueue::len);
            hook_seen.lock().expect("lock").push(len);
        })
        .build()
        .expect("valid queue");
    slot.set(queue.clone()).expect("set once");
    queue.put(1).await.expect("room");
    queue.put(2).await.expect("room");
    assert_eq!(*seen.lock().expect("lock"), vec![Some(2)]);
}

#[tokio::test]
async fn close_refuses_puts_and_lets_gets_drain() {
    let queue = BoundedQueue::new(nz(4));
    queue.put(1).await.expect("room");
    queue.close();
    assert!(matches!(queue.put(2).await, Err(PutError::Closed(2))));
    assert_eq!(queue.get().await, Some(1));
    assert_eq!(queue.get().await, None);
}

#[test]
fn rejects_out_of_order_watermarks() {
    let built = BoundedQueue::<u8>::builder(nz(10))
        .watermarks(Some(4), Some(6))
        .build();
    assert!(built.is_err());
}
