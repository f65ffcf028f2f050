//! One conformance suite, written once, run against every backend (the in-memory bus and
//! Redis Streams, a real server) on every track: each case runs on the backends and tracks
//! of the test matrix (`EVENT_BUS_BACKEND`, `SCHEMA_TRACK`; all of them when unset), and
//! holds on each. The in-memory bus runs on tokio's paused clock, so that its idle timeouts
//! and deadlines are exact whatever the machine's load; Redis keeps idle time on the
//! server's real clock, so its cells run in real time with margins said where they matter. The data-path cases (retention
//! by acknowledgement, backlog, keep-alive, reclaim cursor, whole reads, byte-exact dead
//! letters) live in `conformance/data_path.rs`, the broadcast readers' in
//! `conformance/broadcast.rs`.

mod support;

#[path = "conformance/data_path.rs"]
mod data_path;

#[path = "conformance/broadcast.rs"]
mod broadcast_cases;

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use broadcast_cases::*;
use core_contracts::{BoxError, EventEnvelope, FeedbackEvent, RateAdjustment, Track, WireEvent};
use data_path::*;
use pulse::{
    CancellationToken, ConsumerRunner, Enforcement, FailOutcome, Handler, Idempotency, Pulse,
    Retention, Subscription,
};
use support::{Harness, event};
use tokio::time::Instant;

const STREAM: &str = "telemetry.feedback";
const DEADLINE: Duration = Duration::from_secs(10);

/// The idle timeout of the cases where a runner keeps an entry in hand past it. The runner
/// touches what it holds every third of it; on Redis, which measures idle time in real time,
/// 1 s leaves that keep-alive over half a second of scheduling delay on a loaded machine
/// before a rival could reclaim (the in-memory cells run on a paused clock).
const IN_HAND_IDLE: Duration = Duration::from_secs(1);

async fn publish_n(pulse: &Pulse, n: u64) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            pulse
                .publish(STREAM, &event(i), Some("bars-coord"))
                .await
                .expect("publishes"),
        );
    }
    ids
}

/// Reads until `n` deliveries arrived or the deadline passed.
async fn collect(
    sub: &mut Subscription<FeedbackEvent>,
    n: usize,
) -> Vec<pulse::Delivery<FeedbackEvent>> {
    let deadline = Instant::now() + DEADLINE;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        if let Some(d) = sub.try_next().await.expect("reads") {
            got.push(d);
        }
    }
    got
}

/// Acknowledges `deliveries` and sends the acks now.
async fn ack_all(
    sub: &mut Subscription<FeedbackEvent>,
    deliveries: &[pulse::Delivery<FeedbackEvent>],
) {
    for d in deliveries {
        sub.ack(d).await.expect("acks");
    }
    sub.flush_acks().await.expect("flushes");
}

fn sizes(deliveries: &[pulse::Delivery<FeedbackEvent>]) -> Vec<u64> {
    deliveries
        .iter()
        .map(|d| d.envelope.payload.queue_size)
        .collect()
}

async fn fan_out_across_groups(h: Harness) {
    let pulse = h.pulse();
    let mut a = pulse
        .subscribe::<FeedbackEvent>(STREAM, "group-a", "c1")
        .await
        .expect("subscribes");
    let mut b = pulse
        .subscribe::<FeedbackEvent>(STREAM, "group-b", "c1")
        .await
        .expect("subscribes");
    publish_n(&pulse, 5).await;
    assert_eq!(sizes(&collect(&mut a, 5).await), vec![0, 1, 2, 3, 4]);
    assert_eq!(sizes(&collect(&mut b, 5).await), vec![0, 1, 2, 3, 4]);
}

async fn consumers_in_a_group_compete(h: Harness) {
    let pulse = h.pulse_with(|c| c.read_count = NonZeroUsize::new(5).expect("non-zero"));
    let mut c1 = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    let mut c2 = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c2")
        .await
        .expect("subscribes");
    publish_n(&pulse, 20).await;
    let (mut seen1, mut seen2) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + DEADLINE;
    while seen1.len() + seen2.len() < 20 && Instant::now() < deadline {
        for _ in 0..5 {
            if let Some(d) = c1.try_next().await.expect("reads") {
                seen1.push(d.envelope.payload.queue_size);
            }
        }
        for _ in 0..5 {
            if let Some(d) = c2.try_next().await.expect("reads") {
                seen2.push(d.envelope.payload.queue_size);
            }
        }
    }
    assert!(
        !seen1.is_empty() && !seen2.is_empty(),
        "both consumers got work: {seen1:?} {seen2:?}"
    );
    let all: BTreeSet<u64> = seen1.iter().chain(&seen2).copied().collect();
    assert_eq!(
        seen1.len() + seen2.len(),
        20,
        "each message went to exactly one consumer"
    );
    assert_eq!(all, (0..20).collect());
}

async fn a_late_group_sees_earlier_messages(h: Harness) {
    let pulse = h.pulse();
    publish_n(&pulse, 3).await;
    let mut late = pulse
        .subscribe::<FeedbackEvent>(STREAM, "late", "c1")
        .await
        .expect("subscribes");
    assert_eq!(sizes(&collect(&mut late, 3).await), vec![0, 1, 2]);
}

async fn ack_removes_from_pending(h: Harness) {
    let pulse = h.pulse();
    let key = pulse.stream(STREAM).key().to_owned();
    let mut sub = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    publish_n(&pulse, 3).await;
    let got = collect(&mut sub, 3).await;
    assert_eq!(
        pulse.backend().pending(&key, "g").await.expect("pending"),
        3
    );
    ack_all(&mut sub, &got).await;
    assert_eq!(
        pulse.backend().pending(&key, "g").await.expect("pending"),
        0
    );
}

async fn fail_redelivers_then_dead_letters_with_data_intact(h: Harness) {
    let pulse = h.pulse();
    let key = pulse.stream(STREAM).key().to_owned();
    let mut sub = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    let sent = event(42);
    let id = pulse
        .publish(STREAM, &sent, Some("bars-coord"))
        .await
        .expect("publishes");
    let mut outcomes = Vec::new();
    for attempt in 0..3 {
        let d = collect(&mut sub, 1).await.pop().expect("delivered");
        assert_eq!(d.id(), id);
        assert_eq!(d.redelivered, attempt > 0);
        outcomes.push(sub.fail(&d, "handler exploded").await.expect("fails"));
    }
    assert_eq!(
        outcomes,
        vec![
            FailOutcome::Redelivered { deliveries: 1 },
            FailOutcome::Redelivered { deliveries: 2 },
            FailOutcome::DeadLettered { deliveries: 3 },
        ]
    );
    assert!(
        collect_quick(&mut sub).await.is_none(),
        "not delivered again after the DLQ"
    );
    assert_eq!(
        pulse.backend().pending(&key, "g").await.expect("pending"),
        0
    );
    let dead = pulse.dead_letters(STREAM, 10).await.expect("lists");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].original_id, id);
    assert_eq!(dead[0].reason, "handler exploded");
    assert_eq!(dead[0].deliveries, 3);
    let wire: WireEvent<FeedbackEvent> =
        serde_json::from_slice(dead[0].data().expect("has data")).expect("data intact");
    // As sealed for the track: v2 also carries the utilization derived from the sizes.
    let sealed = pulse.seal(&sent, Some("bars-coord")).expect("seals");
    assert_eq!(wire.payload, sealed.payload);
}

async fn collect_quick(
    sub: &mut Subscription<FeedbackEvent>,
) -> Option<pulse::Delivery<FeedbackEvent>> {
    sub.try_next().await.expect("reads")
}

async fn a_dropped_consumers_messages_are_reclaimed(h: Harness) {
    let pulse = h.pulse();
    let key = pulse.stream(STREAM).key().to_owned();
    let mut doomed = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "doomed")
        .await
        .expect("subscribes");
    publish_n(&pulse, 2).await;
    assert_eq!(collect(&mut doomed, 2).await.len(), 2);
    drop(doomed);
    let mut heir = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "heir")
        .await
        .expect("subscribes");
    let reclaimed = collect(&mut heir, 2).await;
    assert_eq!(sizes(&reclaimed), vec![0, 1]);
    assert!(reclaimed.iter().all(|d| d.redelivered));
    ack_all(&mut heir, &reclaimed).await;
    assert_eq!(
        pulse.backend().pending(&key, "g").await.expect("pending"),
        0
    );
}

async fn a_restarted_consumer_gets_its_own_pending_entries_first(h: Harness) {
    let pulse = h.pulse_with(|c| c.idle_timeout = Duration::from_secs(600));
    let mut first = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    publish_n(&pulse, 2).await;
    assert_eq!(collect(&mut first, 2).await.len(), 2);
    drop(first);
    publish_n(&pulse, 1).await;
    let mut again = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    let got = collect(&mut again, 3).await;
    assert_eq!(sizes(&got), vec![0, 1, 0]);
    assert_eq!(
        got.iter().map(|d| d.redelivered).collect::<Vec<_>>(),
        vec![true, true, false]
    );
}

struct Counting {
    calls: AtomicU64,
    fail: bool,
}

#[async_trait]
impl Handler<FeedbackEvent> for Counting {
    async fn handle(&self, _event: &EventEnvelope<FeedbackEvent>) -> Result<(), BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            Err("handler refuses".into())
        } else {
            Ok(())
        }
    }
}

async fn wait_until<F, Fut>(mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !condition().await {
        assert!(
            Instant::now() < deadline,
            "condition not met within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn duplicates_are_suppressed_by_the_lru(h: Harness) {
    let pulse = h.pulse();
    let key = pulse.stream(STREAM).key().to_owned();
    let seen = Arc::new(Idempotency::new(NonZeroUsize::new(16).expect("non-zero")));
    // A consumer handles the event, marks it, and dies before its ack reaches the bus.
    let mut crashed = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "crashed")
        .await
        .expect("subscribes");
    publish_n(&pulse, 1).await;
    let d = collect(&mut crashed, 1).await.pop().expect("delivered");
    seen.mark(d.id());
    drop(crashed);
    let handler = Arc::new(Counting {
        calls: AtomicU64::new(0),
        fail: false,
    });
    let runner = ConsumerRunner::new(pulse.clone(), STREAM, "g", "heir", handler.clone())
        .with_idempotency(seen);
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run(stop.clone()));
    wait_until(|| async { pulse.backend().pending(&key, "g").await.expect("pending") == 0 }).await;
    stop.cancel();
    let report = task.await.expect("runner ends");
    assert_eq!(report.duplicates, 1);
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        0,
        "the duplicate never reached the handler"
    );
}

async fn runner_handler_errors_redeliver_then_dead_letter(h: Harness) {
    let pulse = h.pulse();
    let handler = Arc::new(Counting {
        calls: AtomicU64::new(0),
        fail: true,
    });
    let runner = ConsumerRunner::new(pulse.clone(), STREAM, "g", "c1", handler.clone());
    let stop = CancellationToken::new();
    let task = tokio::spawn(runner.run(stop.clone()));
    publish_n(&pulse, 1).await;
    wait_until(|| async { pulse.dead_letters(STREAM, 10).await.expect("lists").len() == 1 }).await;
    stop.cancel();
    let report = task.await.expect("runner ends");
    assert_eq!(
        handler.calls.load(Ordering::SeqCst),
        3,
        "delivered max_deliveries times"
    );
    assert_eq!(
        (report.failed, report.dead_lettered, report.handled),
        (3, 1, 0)
    );
    assert_eq!(
        pulse
            .metrics()
            .consume_count("telemetry.feedback", h.track().as_str(), "error"),
        3
    );
    assert_eq!(
        pulse
            .metrics()
            .consume_count("telemetry.feedback", h.track().as_str(), "dlq"),
        1
    );
}

async fn runner_finishes_the_message_in_hand_on_shutdown(h: Harness) {
    struct Gated {
        started: tokio::sync::Notify,
        release: tokio::sync::Notify,
        done: AtomicU64,
    }
    #[async_trait]
    impl Handler<FeedbackEvent> for Gated {
        async fn handle(&self, _event: &EventEnvelope<FeedbackEvent>) -> Result<(), BoxError> {
            self.started.notify_one();
            self.release.notified().await;
            self.done.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
    let pulse = h.pulse();
    let key = pulse.stream(STREAM).key().to_owned();
    let handler = Arc::new(Gated {
        started: tokio::sync::Notify::new(),
        release: tokio::sync::Notify::new(),
        done: AtomicU64::new(0),
    });
    let stop = CancellationToken::new();
    let task = tokio::spawn(
        ConsumerRunner::new(pulse.clone(), STREAM, "g", "c1", handler.clone()).run(stop.clone()),
    );
    publish_n(&pulse, 1).await;
    handler.started.notified().await;
    stop.cancel();
    handler.release.notify_one();
    let report = task.await.expect("runner ends");
    assert_eq!(report.handled, 1);
    assert_eq!(handler.done.load(Ordering::SeqCst), 1);
    assert_eq!(
        pulse.backend().pending(&key, "g").await.expect("pending"),
        0,
        "acked before exit"
    );
}

async fn a_message_in_hand_is_not_reclaimed(h: Harness) {
    struct Slow {
        calls: AtomicU64,
    }
    #[async_trait]
    impl Handler<FeedbackEvent> for Slow {
        async fn handle(&self, _event: &EventEnvelope<FeedbackEvent>) -> Result<(), BoxError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(3 * IN_HAND_IDLE).await; // three idle timeouts of work
            Ok(())
        }
    }
    let pulse = h.pulse_with(|c| c.idle_timeout = IN_HAND_IDLE);
    let key = pulse.stream(STREAM).key().to_owned();
    let slow = Arc::new(Slow {
        calls: AtomicU64::new(0),
    });
    let stop = CancellationToken::new();
    let worker = tokio::spawn(
        ConsumerRunner::new(pulse.clone(), STREAM, "g", "worker", slow.clone()).run(stop.clone()),
    );
    publish_n(&pulse, 1).await;
    wait_until(|| async { slow.calls.load(Ordering::SeqCst) == 1 }).await;
    let mut rival = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "rival")
        .await
        .expect("subscribes");
    let deadline = Instant::now() + 4 * IN_HAND_IDLE;
    while Instant::now() < deadline {
        assert!(
            rival.try_next().await.expect("reads").is_none(),
            "the rival reclaimed an entry in hand"
        );
    }
    wait_until(|| async { pulse.backend().pending(&key, "g").await.expect("pending") == 0 }).await;
    stop.cancel();
    worker.await.expect("runner ends");
    assert_eq!(slow.calls.load(Ordering::SeqCst), 1);
}

async fn telemetry_streams_are_bounded_by_count(h: Harness) {
    let pulse = h.pulse_with(|c| c.retention = NonZeroUsize::new(100).expect("non-zero"));
    let key = pulse.stream(STREAM).key().to_owned();
    for chunk in 0..10 {
        let events: Vec<_> = (0..100)
            .map(|i| {
                pulse
                    .seal(&event(chunk * 100 + i), Some("bars-coord"))
                    .expect("seals")
            })
            .collect();
        pulse
            .publish_batch(STREAM, &events)
            .await
            .expect("publishes");
    }
    let len = pulse.backend().len(&key).await.expect("len");
    assert!(
        (100..=200).contains(&len),
        "1000 published with MAXLEN ~ 100 kept {len}"
    );
}

async fn bad_input_is_dead_lettered_and_the_consumer_keeps_going(h: Harness) {
    let track = h.track();
    let pulse = h.pulse_with(|c| {
        c.enforcement = Enforcement::Strict;
        c.max_message_bytes = NonZeroUsize::new(2048).expect("non-zero");
    });
    let key = pulse.stream(STREAM).key().to_owned();
    let mut sub = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    let good =
        serde_json::to_string(&pulse.seal(&event(7), Some("k")).expect("seals")).expect("encodes");
    let rate = serde_json::to_string(
        &pulse
            .seal(
                &RateAdjustment::new("ibkr", 0.5, core_contracts::BackpressureLevel::Soft, 1.0)
                    .expect("valid"),
                None,
            )
            .expect("seals"),
    )
    .expect("encodes");
    let bad: Vec<(String, &str)> = vec![
        ("{\"ts\": 1.0, \"meta\": ".into(), "malformed"),
        (rate, "wrong_schema"),
        (
            good.replace(&format!("\"track\":\"{track}\""), "\"track\":\"v3\""),
            "wrong_track",
        ),
        (
            good.replace("\"queue_size\":7", "\"queue_size\":8"),
            "hash_mismatch",
        ),
        (good.replace("bars-coord", &"x".repeat(4096)), "too_large"),
    ];
    for (data, _) in &bad {
        pulse
            .backend()
            .publish(&key, data, Retention::MaxLen(1000))
            .await
            .expect("raw publish");
    }
    pulse
        .backend()
        .publish(&key, &good, Retention::MaxLen(1000))
        .await
        .expect("raw publish");
    let got = collect(&mut sub, 1).await;
    assert_eq!(
        sizes(&got),
        vec![7],
        "the valid message after the bad ones is delivered"
    );
    let dead = pulse.dead_letters(STREAM, 10).await.expect("lists");
    let reasons: Vec<&str> = dead.iter().map(|d| d.reason.as_str()).collect();
    assert_eq!(dead.len(), bad.len(), "{reasons:?}");
    for ((data, reason), letter) in bad.iter().zip(&dead) {
        assert!(
            letter.reason.starts_with(reason),
            "{reason}: {}",
            letter.reason
        );
        assert_eq!(letter.data(), Some(data.as_bytes()), "data intact");
    }
    assert_eq!(
        pulse
            .metrics()
            .consume_count("telemetry.feedback", track.as_str(), "dlq"),
        5
    );
}

async fn order_within_a_stream_is_kept_for_one_consumer(h: Harness) {
    let pulse = h.pulse_with(|c| c.read_count = NonZeroUsize::new(7).expect("non-zero"));
    let mut sub = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    let events: Vec<_> = (0..50)
        .map(|i| pulse.seal(&event(i), None).expect("seals"))
        .collect();
    pulse
        .publish_batch(STREAM, &events[..25])
        .await
        .expect("publishes");
    publish_tail(&pulse, &events[25..]).await;
    assert_eq!(
        sizes(&collect(&mut sub, 50).await),
        (0..50).collect::<Vec<_>>()
    );
}

async fn publish_tail(pulse: &Pulse, events: &[WireEvent<FeedbackEvent>]) {
    for e in events {
        pulse.publish_event(STREAM, e).await.expect("publishes");
    }
}

async fn v2_events_carry_their_extension(h: Harness) {
    let pulse = h.pulse_with(|c| c.track = Track::V2);
    let mut sub = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    let sent = event(3).with_seq(9).with_reason("queue_high_watermark");
    pulse
        .publish(STREAM, &sent, Some("bars-coord"))
        .await
        .expect("publishes");
    let got = collect(&mut sub, 1).await.pop().expect("delivered");
    assert_eq!(got.envelope.meta.track, Track::V2);
    assert_eq!(got.envelope.payload.seq, Some(9));
    assert_eq!(got.envelope.key.as_deref(), Some("bars-coord"));
}

async fn dead_letters_replay_to_their_stream(h: Harness) {
    let pulse = h.pulse_with(|c| c.max_deliveries = std::num::NonZeroU32::MIN);
    let mut sub = pulse
        .subscribe::<FeedbackEvent>(STREAM, "g", "c1")
        .await
        .expect("subscribes");
    pulse
        .publish(STREAM, &event(5), None)
        .await
        .expect("publishes");
    let d = collect(&mut sub, 1).await.pop().expect("delivered");
    assert_eq!(
        sub.fail(&d, "boom").await.expect("fails"),
        FailOutcome::DeadLettered { deliveries: 1 }
    );
    assert_eq!(
        pulse
            .replay_dead_letters(STREAM, 100)
            .await
            .expect("replays"),
        1
    );
    assert!(
        pulse
            .dead_letters(STREAM, 10)
            .await
            .expect("lists")
            .is_empty()
    );
    assert_eq!(sizes(&collect(&mut sub, 1).await), vec![5]);
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                'backends: for backend in pulse::testing::backends() {
                    for track in pulse::testing::tracks() {
                        // Captured with the test's output: names the cell of a failure.
                        eprintln!("{} on {} / {track}", stringify!($case), backend.as_str());
                        let ran = support::runtime_for(backend).block_on(async {
                            let Some(h) = Harness::of(backend).await else {
                                return false;
                            };
                            super::$case(h.on_track(track)).await;
                            true
                        });
                        if !ran {
                            continue 'backends;
                        }
                    }
                }
            }
        )*
    };
}

// Every case on every backend and track of the test matrix (`EVENT_BUS_BACKEND`,
// `SCHEMA_TRACK`; all of them when unset).
mod cases {
    use super::*;

    conformance!(
        fan_out_across_groups,
        consumers_in_a_group_compete,
        a_late_group_sees_earlier_messages,
        ack_removes_from_pending,
        fail_redelivers_then_dead_letters_with_data_intact,
        a_dropped_consumers_messages_are_reclaimed,
        a_restarted_consumer_gets_its_own_pending_entries_first,
        duplicates_are_suppressed_by_the_lru,
        runner_handler_errors_redeliver_then_dead_letter,
        runner_finishes_the_message_in_hand_on_shutdown,
        a_message_in_hand_is_not_reclaimed,
        telemetry_streams_are_bounded_by_count,
        bad_input_is_dead_lettered_and_the_consumer_keeps_going,
        order_within_a_stream_is_kept_for_one_consumer,
        v2_events_carry_their_extension,
        dead_letters_replay_to_their_stream,
        a_data_stream_keeps_every_unacked_entry_past_retention,
        a_trim_removes_only_what_every_group_acknowledged,
        a_stream_without_groups_is_never_trimmed_by_acknowledgement,
        backlog_counts_undelivered_and_pending,
        a_touch_never_takes_back_a_reclaimed_entry,
        a_claim_scan_resumes_after_the_last_entry_it_looked_at,
        a_dead_consumers_whole_backlog_is_reclaimed_read_after_read,
        a_batch_read_hands_out_the_whole_read,
        entries_read_ahead_by_the_runner_are_not_reclaimed,
        undecodable_entries_are_dead_lettered_and_replayed_byte_for_byte,
        a_failed_entry_is_dead_lettered_with_every_field,
        every_broadcast_reader_sees_every_event,
        a_broadcast_reader_starts_from_the_recent_history,
        a_broadcast_reader_skips_what_it_cannot_decode,
    );
}
