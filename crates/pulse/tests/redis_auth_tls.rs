//! `REDIS_URL` with a password, and `rediss://` with a private CA, both work against a real
//! server; a wrong password is a clear error that never shows the password.

mod support;

use std::sync::Arc;

use core_contracts::FeedbackEvent;
use pulse::backend::redis_streams::RedisStreamsBus;
use pulse::{BackendKind, Pulse, PulseConfig};
use support::redis_server::RedisServer;

async fn round_trip(config: PulseConfig) {
    let bus = Arc::new(RedisStreamsBus::connect(&config).await.expect("connects"));
    let pulse = Pulse::new(bus, config);
    let mut sub = pulse
        .subscribe::<FeedbackEvent>("telemetry.feedback", "pipeline", "c1")
        .await
        .expect("subscribes");
    pulse
        .publish("telemetry.feedback", &support::event(4), Some("bars-coord"))
        .await
        .expect("publishes");
    let d = sub.next().await.expect("delivered");
    assert_eq!(d.envelope.payload.queue_size, 4);
    let health = pulse.health().await;
    assert_eq!(health["status"], "ok", "{health:?}");
    assert!(!format!("{health:?}").contains("s3cret"), "{health:?}");
}

fn config_for(server: &RedisServer) -> PulseConfig {
    let mut config = support::test_config(BackendKind::Redis, "");
    config.redis_url = server.url();
    config
}

#[tokio::test]
async fn a_password_protected_redis_works() {
    if !support::redis_available() {
        return;
    }
    let server = RedisServer::start_with(Some("s3cret"), false);
    round_trip(config_for(&server)).await;
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_without_the_password() {
    if !support::redis_available() {
        return;
    }
    let server = RedisServer::start_with(Some("s3cret"), false);
    let mut config = config_for(&server);
    config.redis_url = config.redis_url.replace("s3cret", "wrong-pw");
    let bus = Arc::new(
        RedisStreamsBus::connect(&config)
            .await
            .expect("opens lazily"),
    );
    let pulse = Pulse::new(bus, config);
    let err = pulse
        .publish("telemetry.feedback", &support::event(1), None)
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(!text.contains("wrong-pw"), "{text}");
    assert!(
        text.to_lowercase().contains("auth") || text.contains("WRONGPASS"),
        "{text}"
    );
}

#[tokio::test]
async fn rediss_with_a_private_ca_works() {
    if !support::redis_available() {
        return;
    }
    let server = RedisServer::start_with(Some("s3cret"), true);
    let mut config = config_for(&server);
    assert!(config.redis_url.starts_with("rediss://"));
    config.redis_tls_ca_file = Some(server.ca_file());
    round_trip(config).await;
}
