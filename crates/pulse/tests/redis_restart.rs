//! Redis killed with SIGKILL mid-stream and restarted (a private server on a free port,
//! append-only persistence): publishers get errors rather than hanging, both sides
//! reconnect, and every message whose publish was acknowledged is consumed.

mod support;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::{BoxError, EventEnvelope, FeedbackEvent};
use pulse::backend::redis_streams::RedisStreamsBus;
use pulse::{BackendKind, CancellationToken, ConsumerRunner, Handler, Pulse};
use support::redis_server::RedisServer;
use tokio::time::Instant;

struct Collect(Arc<Mutex<BTreeSet<u64>>>);

#[async_trait]
impl Handler<FeedbackEvent> for Collect {
    async fn handle(&self, event: &EventEnvelope<FeedbackEvent>) -> Result<(), BoxError> {
        self.0
            .lock()
            .expect("lock")
            .insert(event.payload.queue_size);
        Ok(())
    }
}

async fn publish_until_acknowledged(pulse: &Pulse, n: u64, errors: &mut u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let started = Instant::now();
        match pulse
            .publish("telemetry.feedback", &support::event(n), None)
            .await
        {
            Ok(_) => return,
            Err(e) => {
                assert!(
                    started.elapsed() < Duration::from_secs(5),
                    "a failed publish took {:?}",
                    started.elapsed()
                );
                assert!(e.is_unavailable(), "{e}");
                *errors += 1;
                assert!(Instant::now() < deadline, "Redis did not come back");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_reconnect_after_a_redis_restart_and_nothing_acknowledged_is_lost() {
    if !support::redis_available() {
        return;
    }
    let mut server = RedisServer::start();
    let mut config = support::test_config(BackendKind::Redis, "");
    config.redis_url = server.url();
    let bus = Arc::new(RedisStreamsBus::connect(&config).await.expect("connects"));
    let pulse = Pulse::new(bus, config);
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = CancellationToken::new();
    let runner = ConsumerRunner::new(
        pulse.clone(),
        "telemetry.feedback",
        "pipeline",
        "c1",
        Arc::new(Collect(seen.clone())),
    );
    let consumer = tokio::spawn(runner.run(stop.clone()));

    let mut errors = 0;
    for n in 0..50 {
        publish_until_acknowledged(&pulse, n, &mut errors).await;
    }
    server.kill();
    let failed = pulse
        .publish("telemetry.feedback", &support::event(999), None)
        .await;
    assert!(failed.is_err(), "publishing to a dead Redis fails");
    server.restart();
    for n in 50..100 {
        publish_until_acknowledged(&pulse, n, &mut errors).await;
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().expect("lock").len() < 100 {
        assert!(
            Instant::now() < deadline,
            "consumer did not resume: {} of 100",
            seen.lock().expect("lock").len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    let report = consumer.await.expect("runner ends");
    assert_eq!(
        *seen.lock().expect("lock"),
        (0..100).collect::<BTreeSet<u64>>()
    );
    assert!(
        report.restarts >= 1,
        "the consumer restarted after the outage: {report:?}"
    );
}
