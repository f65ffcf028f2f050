//! The bus entries one crate writes and another reads, byte for byte, per track: the
//! feedback entry (and the goodbye) the store's publisher (`PulseFeedbackPublisher`) writes
//! to `telemetry.feedback`, which the pipeline's feedback consumer reads, and the bars entry
//! the pipeline writes to `marketdata.bars`, which the store's group reads.
//!
//! Each entry is captured from an in-memory bus after the writer's own code path ran on a
//! fixed clock, its fields pinned as a snapshot (the field map a Redis Streams entry has),
//! and then fed, exactly those bytes, to the reader's code path on a bus of its own, with
//! the decoded result asserted. A change on either side breaks a snapshot or a decode.

use std::sync::Arc;

use core_contracts::{BackpressureLevel, Bar, FeedbackEvent, ManualClock, Track};
use insta::assert_snapshot;
use mdp_tests::canonical;
use pipeline::config::FeedbackSettings;
use pipeline::feedback::{FeedbackConsumer, FeedbackHandler, NoopSink};
use pipeline::rate::{ProviderConfig, RateCoordinator, RateCoordinatorAdapter};
use pulse::backend::Fields;
use pulse::backend::memory::InMemoryBus;
use pulse::{EventBus, Pulse, PulseConfig, Retention};
use store::bus_feedback::PulseFeedbackPublisher;

/// A `Pulse` writing `track` on a private in-memory bus, its clock stopped at
/// [`canonical::TS`].
fn pulse_on(track: Track) -> (Arc<InMemoryBus>, Pulse) {
    let bus = Arc::new(InMemoryBus::new());
    let config = PulseConfig {
        track,
        ..PulseConfig::default()
    };
    let pulse = Pulse::new(bus.clone(), config).with_clock(Arc::new(clock()));
    (bus, pulse)
}

fn clock() -> ManualClock {
    ManualClock::new(canonical::TS)
}

/// Every entry of stream `name`, oldest first.
async fn entries(bus: &InMemoryBus, pulse: &Pulse, name: &str) -> Vec<Fields> {
    let key = pulse.stream(name).key().to_owned();
    bus.read_latest(&key, 100)
        .await
        .expect("reads")
        .into_iter()
        .map(|entry| entry.fields)
        .collect()
}

/// The fields of an entry, one `name = value` line each, exactly as written (UTF-8).
fn render(fields: &Fields) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            let text = |b: &[u8]| String::from_utf8(b.to_vec()).expect("UTF-8 on the wire");
            format!("{} = {}\n", text(name), text(value))
        })
        .collect()
}

/// Writes `entries` verbatim to stream `name` of a fresh bus read by a `Pulse` on `track`.
async fn replayed(track: Track, name: &str, entries: &[Fields]) -> Pulse {
    let (bus, pulse) = pulse_on(track);
    let key = pulse.stream(name).key().to_owned();
    bus.publish_raw(&key, entries, Retention::MaxLen(1000))
        .await
        .expect("raw publish");
    pulse
}

/// What the store's feedback publisher writes for the canonical event and, with `goodbye`,
/// its goodbye after it.
async fn store_feedback(track: Track, goodbye: bool) -> Vec<Fields> {
    let (bus, pulse) = pulse_on(track);
    let publisher = PulseFeedbackPublisher::new(pulse.clone());
    publisher
        .publish_event(&canonical::feedback_event())
        .await
        .expect("publishes");
    if goodbye {
        publisher
            .publish_goodbye(canonical::feedback_event())
            .await
            .expect("publishes");
    }
    entries(&bus, &pulse, pulse::stream::FEEDBACK).await
}

/// The pipeline's feedback handler for `ibkr` on the stopped clock, and its consumer on
/// `pulse`.
fn pipeline_consumer(pulse: Pulse) -> (Arc<FeedbackHandler>, FeedbackConsumer) {
    let coordinator = Arc::new(RateCoordinator::new());
    coordinator
        .register_provider("ibkr", ProviderConfig::default())
        .expect("registers");
    let handler = Arc::new(
        FeedbackHandler::new(
            &FeedbackSettings::default(),
            Arc::new(RateCoordinatorAdapter::new(coordinator)),
            Arc::new(NoopSink),
        )
        .with_clock(Arc::new(clock())),
    );
    let consumer = FeedbackConsumer::new(pulse, handler.clone(), "contract");
    (handler, consumer)
}

#[tokio::test]
async fn the_feedback_entry_the_store_writes_is_what_the_pipeline_reads() {
    for track in Track::ALL {
        let written = store_feedback(track, false).await;
        assert_eq!(written.len(), 1, "one entry per event");
        insta::with_settings!({ snapshot_suffix => track.as_str() }, {
            assert_snapshot!("store_feedback_entry", render(&written[0]));
        });

        let pulse = replayed(track, pulse::stream::FEEDBACK, &written).await;
        let decoded = pulse
            .broadcast::<FeedbackEvent>(pulse::stream::FEEDBACK)
            .await
            .expect("opens")
            .history(10)
            .await
            .expect("decodes");
        assert_eq!(decoded.len(), 1, "{track}");
        let envelope = &decoded[0];
        assert_eq!(envelope.key.as_deref(), Some("bars-coord"), "{track}");
        assert_eq!(envelope.meta.track, track);
        assert_eq!(envelope.meta.headers["utilization"], "0.800000", "{track}");
        assert_eq!(envelope.payload.coordinator_id, "bars-coord");
        assert_eq!(envelope.payload.level, BackpressureLevel::Soft);
        assert_eq!(
            (envelope.payload.queue_size, envelope.payload.capacity),
            (80, 100)
        );
        assert_eq!(envelope.payload.ts, canonical::TS);

        let (handler, mut consumer) = pipeline_consumer(pulse);
        assert_eq!(consumer.catch_up().await.expect("catches up"), 1, "{track}");
        let stores = handler.coordinators().await;
        let view = &stores["bars-coord"];
        assert_eq!(view.level, BackpressureLevel::Soft, "{track}");
        assert_eq!(view.queue_size, 80, "{track}");
        assert_eq!(view.utilization, 0.8, "{track}");
        assert_eq!(view.last_ts, canonical::TS, "{track}");
        assert_eq!(view.source, "store", "{track}");
        assert_eq!(handler.applied_level().await, Some(BackpressureLevel::Soft));
    }
}

#[tokio::test]
async fn the_goodbye_the_store_writes_drops_it_from_the_pipeline() {
    for track in Track::ALL {
        let written = store_feedback(track, true).await;
        assert_eq!(written.len(), 2, "the event and the goodbye");
        insta::with_settings!({ snapshot_suffix => track.as_str() }, {
            assert_snapshot!("store_goodbye_entry", render(&written[1]));
        });

        let pulse = replayed(track, pulse::stream::FEEDBACK, &written).await;
        let (handler, mut consumer) = pipeline_consumer(pulse);
        assert_eq!(consumer.catch_up().await.expect("catches up"), 2, "{track}");
        assert!(
            handler.coordinators().await.is_empty(),
            "{track}: the store said goodbye"
        );
    }
}

#[tokio::test]
async fn the_bars_entry_the_pipeline_writes_is_what_the_store_reads() {
    for track in Track::ALL {
        // Sealed by the pipeline's bar publisher's own code, published as one batch.
        let (bus, pulse) = pulse_on(track);
        let bar = canonical::bar();
        let sealed =
            pipeline::service::seal_bars(&pulse, std::slice::from_ref(&bar)).expect("seals");
        pulse
            .publish_batch(pulse::stream::BARS, &sealed)
            .await
            .expect("publishes");
        let written = entries(&bus, &pulse, pulse::stream::BARS).await;
        assert_eq!(written.len(), 1);
        insta::with_settings!({ snapshot_suffix => track.as_str() }, {
            assert_snapshot!("pipeline_bars_entry", render(&written[0]));
        });

        let pulse = replayed(track, pulse::stream::BARS, &written).await;
        let mut store = pulse
            .subscribe::<Bar>(pulse::stream::BARS, store::service::STORE_GROUP, "store-a")
            .await
            .expect("subscribes");
        let delivery = store.try_next().await.expect("reads").expect("delivered");
        assert_eq!(delivery.envelope.payload, bar, "{track}");
        assert_eq!(delivery.envelope.meta.track, track);
        assert_eq!(
            delivery.envelope.key.as_deref(),
            Some(bar.key().bus_key().as_str())
        );
    }
}
