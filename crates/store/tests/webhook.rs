//! The feedback webhook against a local HTTP server: the body of SPEC §4.4, retries on 5xx
//! and network errors, none on 4xx, a timeout per attempt.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use core_contracts::{BackpressureLevel, FeedbackEvent, FeedbackPublisher};
use serde_json::{Value, json};
use store::config::WebhookSettings;
use store::webhook::{WebhookBroadcaster, WebhookError};

/// A receiver answering with `script` in order, then 200; it records every body.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Vec<u16>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    fn answering(script: &[u16]) -> Self {
        let receiver = Self::default();
        receiver
            .script
            .lock()
            .expect("lock")
            .extend(script.iter().rev());
        receiver
    }

    fn hits(&self) -> usize {
        self.bodies.lock().expect("lock").len()
    }
}

async fn receive(State(r): State<Receiver>, body: axum::Json<Value>) -> StatusCode {
    r.bodies.lock().expect("lock").push(body.0);
    let status = r.script.lock().expect("lock").pop().unwrap_or(200);
    StatusCode::from_u16(status).expect("valid status")
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/feedback")
}

async fn receiver(script: &[u16]) -> (Receiver, String) {
    let receiver = Receiver::answering(script);
    let router = Router::new()
        .route("/feedback", post(receive))
        .with_state(receiver.clone());
    (receiver, serve(router).await)
}

fn settings(url: String, max_retries: u32) -> WebhookSettings {
    WebhookSettings {
        endpoint: url,
        timeout: Duration::from_secs(2),
        max_retries,
        backoff: Duration::from_millis(1),
    }
}

fn event() -> FeedbackEvent {
    FeedbackEvent::new(
        "bars-coord",
        8,
        10,
        BackpressureLevel::Hard,
        1_729_234_567.5,
    )
    .expect("valid event")
    .with_reason("high_watermark")
}

#[tokio::test]
async fn posts_the_event_with_reason_and_utilization() {
    let (receiver, url) = receiver(&[]).await;
    let hook = WebhookBroadcaster::new(settings(url, 3)).expect("client");
    assert_eq!(hook.send(&event()).await.expect("delivered"), 1);
    let bodies = receiver.bodies.lock().expect("lock").clone();
    assert_eq!(
        bodies,
        [json!({
            "coordinator_id": "bars-coord",
            "queue_size": 8,
            "capacity": 10,
            "level": "hard",
            "reason": "high_watermark",
            "utilization": 0.8,
            "source": "store",
            "ts": 1_729_234_567.5
        })]
    );
}

#[tokio::test]
async fn an_event_without_reason_sends_null() {
    let (receiver, url) = receiver(&[]).await;
    let hook = WebhookBroadcaster::new(settings(url, 0)).expect("client");
    let ev = FeedbackEvent::new("c", 0, 10, BackpressureLevel::Ok, 1.0).expect("valid event");
    hook.send(&ev).await.expect("delivered");
    let body = receiver.bodies.lock().expect("lock")[0].clone();
    assert_eq!(body["reason"], Value::Null);
    assert_eq!(body["utilization"], json!(0.0));
}

#[tokio::test]
async fn retries_server_errors_then_succeeds() {
    let (receiver, url) = receiver(&[500, 503]).await;
    let hook = WebhookBroadcaster::new(settings(url, 3)).expect("client");
    assert_eq!(hook.send(&event()).await.expect("third attempt"), 3);
    assert_eq!(receiver.hits(), 3);
}

#[tokio::test]
async fn does_not_retry_client_errors() {
    for status in [400, 404, 422] {
        let (receiver, url) = receiver(&[status]).await;
        let hook = WebhookBroadcaster::new(settings(url, 3)).expect("client");
        let err = hook.send(&event()).await.expect_err("rejected");
        assert!(
            matches!(err, WebhookError::Rejected { status: s, .. } if s == status),
            "{err}"
        );
        assert_eq!(receiver.hits(), 1);
    }
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let (receiver, url) = receiver(&[500, 500, 500, 500]).await;
    let hook = WebhookBroadcaster::new(settings(url, 2)).expect("client");
    let err = hook.send(&event()).await.expect_err("exhausted");
    assert!(
        matches!(err, WebhookError::Exhausted { attempts: 3, .. }),
        "{err}"
    );
    assert_eq!(receiver.hits(), 3);
}

#[tokio::test]
async fn retries_network_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/feedback", listener.local_addr().expect("addr"));
    drop(listener);
    let hook = WebhookBroadcaster::new(settings(url, 2)).expect("client");
    let err = hook.send(&event()).await.expect_err("nothing listens");
    assert!(
        matches!(err, WebhookError::Exhausted { attempts: 3, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_receiver_that_never_answers_times_out_and_is_retried() {
    let hits = Arc::new(Mutex::new(0_u32));
    let counter = Arc::clone(&hits);
    let router = Router::new().route(
        "/feedback",
        post(move || {
            *counter.lock().expect("lock") += 1;
            std::future::pending::<StatusCode>()
        }),
    );
    let url = serve(router).await;
    let hook = WebhookBroadcaster::new(WebhookSettings {
        timeout: Duration::from_millis(100),
        ..settings(url, 1)
    })
    .expect("client");
    let err = hook.send(&event()).await.expect_err("timed out");
    assert!(
        matches!(err, WebhookError::Exhausted { attempts: 2, .. }),
        "{err}"
    );
    assert_eq!(*hits.lock().expect("lock"), 2);
}

#[tokio::test]
async fn works_as_a_feedback_publisher() {
    let (receiver, url) = receiver(&[418]).await;
    let hook: Arc<dyn FeedbackPublisher> =
        Arc::new(WebhookBroadcaster::new(settings(url, 3)).expect("client"));
    assert!(hook.publish(event()).await.is_err());
    hook.publish(event()).await.expect("second is accepted");
    assert_eq!(receiver.hits(), 2);
}
