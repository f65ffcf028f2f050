//! The store's Pulse publisher on both backends: the envelope carries the schema id, the
//! track, `key = coordinator_id` and headers `reason` and `utilization` ("0.800000"); the v1
//! payload carries the core fields only; events emitted on the FeedbackBus reach the stream;
//! the heartbeat re-publishes each coordinator's current level; the utilization report
//! publishes a queue that moved and nothing for one that did not; a goodbye carries the
//! header `leaving: true`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use core_contracts::{BackpressureLevel, FeedbackEvent, Track};
use pulse::testing::Harness;
use pulse::{CancellationToken, Pulse, Subscription};
use store::bus_feedback::{PulseFeedbackPublisher, spawn_heartbeat, spawn_reports};
use store::coordinator::{CoordinatorConfig, WriteCoordinator};
use store::feedback::{FeedbackBus, FeedbackSource};
use store::sink::memory::MemorySink;

/// A `Pulse` on `track` with streams of its own (the key prefix names the track).
fn pulse_on(harness: &Harness, track: Track) -> Pulse {
    let prefix = format!("{}{track}:", harness.prefix);
    harness.pulse_with(|c| {
        c.track = track;
        c.key_prefix = prefix;
    })
}

async fn next(
    sub: &mut Subscription<FeedbackEvent>,
) -> core_contracts::EventEnvelope<FeedbackEvent> {
    tokio::time::timeout(Duration::from_secs(10), sub.next())
        .await
        .expect("delivered in time")
        .expect("delivered")
        .envelope
}

async fn envelope_carries_key_headers_and_track(backend: Harness) {
    for track in Track::ALL {
        let pulse = pulse_on(&backend, track);
        let mut sub = pulse
            .subscribe::<FeedbackEvent>(pulse::stream::FEEDBACK, "pipeline", "c1")
            .await
            .expect("subscribes");
        let event = FeedbackEvent::new(
            "bars-coord",
            80,
            100,
            BackpressureLevel::Soft,
            1_729_234_567.123,
        )
        .expect("valid")
        .with_reason("high_watermark")
        .with_seq(7);
        PulseFeedbackPublisher::new(pulse.clone())
            .publish_event(&event)
            .await
            .expect("publishes");
        let got = next(&mut sub).await;
        assert_eq!(
            pulse.stream(pulse::stream::FEEDBACK).full(),
            "mdp.telemetry.feedback"
        );
        assert_eq!(got.meta.schema_id, "telemetry.FeedbackEvent");
        assert_eq!(got.meta.track, track);
        assert_eq!(got.key.as_deref(), Some("bars-coord"));
        assert_eq!(got.meta.headers["reason"], "high_watermark");
        assert_eq!(got.meta.headers["utilization"], "0.800000");
        assert_eq!(got.payload.level, BackpressureLevel::Soft);
        assert_eq!(got.payload.ts, 1_729_234_567.123);
        match track {
            Track::V1 => assert_eq!(
                (got.payload.reason, got.payload.seq),
                (None, None),
                "core fields only"
            ),
            Track::V2 => assert_eq!(
                (got.payload.reason.as_deref(), got.payload.seq),
                (Some("high_watermark"), Some(7))
            ),
        }
    }
}

async fn bus_events_reach_the_stream_and_the_heartbeat_repeats_the_level(backend: Harness) {
    let pulse = pulse_on(&backend, Track::V2);
    let mut sub = pulse
        .subscribe::<FeedbackEvent>(pulse::stream::FEEDBACK, "pipeline", "c1")
        .await
        .expect("subscribes");
    let bus = FeedbackBus::new();
    let publisher = Arc::new(PulseFeedbackPublisher::new(pulse.clone()));
    let attached = bus.attach("pulse", publisher.clone());
    let dir = tempfile::tempdir().expect("temp dir");
    let coordinator = WriteCoordinator::builder(
        CoordinatorConfig::new("bars-coord", dir.path().join("dead.ndjson")),
        Arc::new(MemorySink::new()),
    )
    .bus(bus.clone())
    .start()
    .expect("starts");

    bus.publish(
        FeedbackEvent::new("other-coord", 9, 10, BackpressureLevel::Hard, 2.0)
            .expect("valid")
            .with_reason("high_watermark"),
    );
    let got = next(&mut sub).await;
    assert_eq!(
        (got.payload.coordinator_id.as_str(), got.payload.level),
        ("other-coord", BackpressureLevel::Hard)
    );

    let stop = CancellationToken::new();
    let beat = spawn_heartbeat(
        bus.clone(),
        publisher,
        Duration::from_millis(50),
        stop.clone(),
    );
    let mut beats = 0;
    while beats < 2 {
        let got = next(&mut sub).await;
        if got.payload.coordinator_id == "bars-coord" {
            assert_eq!(got.payload.level, BackpressureLevel::Ok);
            assert_eq!(got.key.as_deref(), Some("bars-coord"));
            beats += 1;
        }
    }
    stop.cancel();
    beat.await.expect("heartbeat ends");
    coordinator.stop(true).await;
    assert_eq!(attached.stats().failed, 0);
}

async fn a_goodbye_carries_the_leaving_header_on_every_track(backend: Harness) {
    for track in Track::ALL {
        let pulse = pulse_on(&backend, track);
        let mut reader = pulse
            .broadcast::<FeedbackEvent>(pulse::stream::FEEDBACK)
            .await
            .expect("opens");
        let event = FeedbackEvent::new("bars-coord", 3, 100, BackpressureLevel::Ok, 1.0)
            .expect("valid")
            .with_seq(9);
        PulseFeedbackPublisher::new(pulse.clone())
            .publish_goodbye(event)
            .await
            .expect("publishes");
        let got = tokio::time::timeout(Duration::from_secs(10), reader.try_next_batch())
            .await
            .expect("in time")
            .expect("reads");
        assert_eq!(got.len(), 1, "{track}");
        let headers = &got[0].meta.headers;
        assert_eq!(
            headers
                .get(core_contracts::LEAVING_HEADER)
                .map(String::as_str),
            Some("true")
        );
        assert_eq!(
            headers.get("reason").map(String::as_str),
            Some(core_contracts::REASON_LEAVING)
        );
        assert_eq!(got[0].key.as_deref(), Some("bars-coord"));
    }
}

/// A coordinator stand-in whose queue size the test sets, counting the events asked of it.
#[derive(Default)]
struct FakeQueue {
    size: AtomicU64,
    asked: AtomicU64,
}

impl FeedbackSource for FakeQueue {
    fn coordinator_id(&self) -> &str {
        "fake-coord"
    }

    fn current_level(&self) -> BackpressureLevel {
        BackpressureLevel::Ok
    }

    fn current_event(&self) -> FeedbackEvent {
        let seq = self.asked.fetch_add(1, Ordering::SeqCst);
        let size = self.size.load(Ordering::SeqCst);
        FeedbackEvent::new("fake-coord", size, 1000, BackpressureLevel::Ok, 1.0)
            .expect("valid")
            .with_reason(store::coordinator::REASON_HEARTBEAT)
            .with_seq(seq)
    }
}

async fn the_report_publishes_a_queue_that_moved_and_nothing_else(backend: Harness) {
    let pulse = pulse_on(&backend, Track::V2);
    let mut reader = pulse
        .broadcast::<FeedbackEvent>(pulse::stream::FEEDBACK)
        .await
        .expect("opens");
    let bus = FeedbackBus::new();
    let queue = Arc::new(FakeQueue::default());
    let source: Arc<dyn FeedbackSource> = queue.clone();
    bus.register_source(Arc::downgrade(&source));
    let stop = CancellationToken::new();
    let publisher = Arc::new(PulseFeedbackPublisher::new(pulse.clone()));
    let reports = spawn_reports(bus, publisher, Duration::from_millis(10), stop.clone());
    let mut read = async || loop {
        let batch = tokio::time::timeout(Duration::from_secs(10), reader.try_next_batch())
            .await
            .expect("in time")
            .expect("reads");
        if let Some(first) = batch.into_iter().next() {
            return first;
        }
    };
    let first = read().await;
    assert_eq!(first.payload.queue_size, 0, "the first look is reported");
    assert_eq!(first.meta.headers["reason"], "utilization");
    // a move below one percent of the capacity, looked at three times: no report
    queue.size.store(5, Ordering::SeqCst);
    let asked = queue.asked.load(Ordering::SeqCst);
    let looked = async {
        while queue.asked.load(Ordering::SeqCst) < asked + 3 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), looked)
        .await
        .expect("the report looks again");
    queue.size.store(30, Ordering::SeqCst);
    let next = read().await;
    assert_eq!(
        next.payload.queue_size, 30,
        "the next report is the move past 1 %"
    );
    assert_eq!(next.meta.headers["utilization"], "0.030000");
    stop.cancel();
    reports.await.expect("the report ends");
}

macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(pulse::testing::Harness::memory()).await;
                }
            )*
        }
        mod redis_streams {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(backend) = pulse::testing::Harness::redis().await {
                        super::$case(backend).await;
                    }
                }
            )*
        }
    };
}

both_backends!(
    envelope_carries_key_headers_and_track,
    a_goodbye_carries_the_leaving_header_on_every_track,
    bus_events_reach_the_stream_and_the_heartbeat_repeats_the_level,
    the_report_publishes_a_queue_that_moved_and_nothing_else,
);
