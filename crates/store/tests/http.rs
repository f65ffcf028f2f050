//! The HTTP routes over injected state: health and readiness, OpenMetrics text, and admin
//! routes that need the bearer token (401 without it, 404 when no token is configured).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use core_contracts::{ControlAction, ControlResult, ControlStatus};
use prometheus_client::registry::Registry;
use serde_json::Value;
use store::config::AdminToken;
use store::http::{AdminActions, HttpState, ReadinessCheck, router, sink_readiness};
use store::sink::SqliteSink;
use store::telemetry::SinkMetrics;
use tower::ServiceExt;

#[derive(Default)]
struct Recorder {
    actions: Mutex<Vec<ControlAction>>,
}

#[async_trait]
impl AdminActions for Recorder {
    async fn control(&self, action: ControlAction) -> ControlResult {
        self.actions.lock().expect("lock").push(action);
        let status = if action == ControlAction::Reload {
            ControlStatus::Error
        } else {
            ControlStatus::Ok
        };
        ControlResult {
            status,
            detail: Some(format!("{action:?}")),
        }
    }
}

fn flag(value: bool) -> (Arc<AtomicBool>, Arc<dyn ReadinessCheck>) {
    let flag = Arc::new(AtomicBool::new(value));
    let seen = Arc::clone(&flag);
    let check: Arc<dyn ReadinessCheck> = Arc::new(move || {
        let ready = seen.load(Ordering::SeqCst);
        async move { ready }
    });
    (flag, check)
}

async fn call(app: &axum::Router, method: &str, uri: &str, token: Option<&str>) -> Response {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn json(response: Response) -> Value {
    let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    serde_json::from_slice(&bytes).expect("json body")
}

fn admin_app(recorder: &Arc<Recorder>) -> axum::Router {
    router(HttpState::new("store", "1.2.3").with_admin(
        AdminToken::new("s3cret"),
        Arc::clone(recorder) as Arc<dyn AdminActions>,
    ))
}

#[tokio::test]
async fn healthz_reports_a_health_status_with_every_component() {
    let (_sink_flag, sink) = flag(true);
    let (_bus_flag, bus) = flag(false);
    let app = router(
        HttpState::new("store", "1.2.3")
            .with_readiness("sink", sink)
            .with_readiness("bus", bus),
    );
    for path in ["/health", "/healthz"] {
        let response = call(&app, "GET", path, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body = json(response).await;
        assert_eq!(body["service"], "store");
        assert_eq!(body["version"], "1.2.3");
        assert_eq!(body["state"], "degraded");
        assert_eq!(body["components"][0]["name"], "sink");
        assert_eq!(body["components"][0]["state"], "healthy");
        assert_eq!(body["components"][1]["state"], "unhealthy");
        assert!(body["ts"].as_f64().expect("ts") > 0.0);
    }
}

#[tokio::test]
async fn readyz_is_503_while_the_sink_or_the_bus_is_not_ready() {
    let (sink_flag, sink) = flag(true);
    let (bus_flag, bus) = flag(true);
    let app = router(
        HttpState::new("store", "1")
            .with_readiness("sink", sink)
            .with_readiness("bus", bus),
    );
    let ok = call(&app, "GET", "/readyz", None).await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(json(ok).await["passed"], true);

    sink_flag.store(false, Ordering::SeqCst);
    let down = call(&app, "GET", "/readyz", None).await;
    assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = json(down).await;
    assert_eq!(body["probe_type"], "readiness");
    assert_eq!(body["message"], "sink not ready");

    sink_flag.store(true, Ordering::SeqCst);
    bus_flag.store(false, Ordering::SeqCst);
    let bus_down = call(&app, "GET", "/readyz", None).await;
    assert_eq!(bus_down.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(bus_down).await["message"], "bus not ready");
}

#[tokio::test]
async fn a_hanging_check_counts_as_not_ready() {
    let hang: Arc<dyn ReadinessCheck> = Arc::new(std::future::pending::<bool>);
    let app = router(
        HttpState::new("store", "1")
            .with_readiness("sink", hang)
            .with_check_timeout(Duration::from_millis(20)),
    );
    let response = call(&app, "GET", "/readyz", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(response).await["message"], "sink check timed out");
}

#[tokio::test]
async fn readiness_follows_a_real_sink() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sink = Arc::new(
        SqliteSink::open(dir.path().join("b.db"))
            .await
            .expect("opens"),
    );
    let app =
        router(HttpState::new("store", "1").with_readiness("sink", sink_readiness(sink.clone())));
    assert_eq!(
        call(&app, "GET", "/readyz", None).await.status(),
        StatusCode::OK
    );
    store::sink::Sink::close(sink.as_ref())
        .await
        .expect("closes");
    assert_eq!(
        call(&app, "GET", "/readyz", None).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

/// `GET /metrics` with `accept`, answered: the content type and the body.
async fn scrape(app: &axum::Router, accept: Option<&str>) -> (String, String) {
    let mut request = Request::builder().method("GET").uri("/metrics");
    if let Some(accept) = accept {
        request = request.header(header::ACCEPT, accept);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .to_owned();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    (
        content_type,
        String::from_utf8(bytes.to_vec()).expect("utf-8"),
    )
}

#[tokio::test]
async fn metrics_are_openmetrics_to_prometheus_and_the_text_format_to_others() {
    let mut registry = Registry::default();
    let metrics = SinkMetrics::default();
    metrics.register(&mut registry);
    metrics.record_write("sqlite", true, 0.002);
    let app = router(HttpState::new("store", "1").with_metrics(Arc::new(registry)));
    // What Prometheus sends.
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                  version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (content_type, text) = scrape(&app, Some(accept)).await;
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    assert!(
        text.contains("sink_writes_total{sink=\"sqlite\",status=\"success\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("sink_write_latency_seconds_count{sink=\"sqlite\"} 1"),
        "{text}"
    );
    assert!(text.contains("# TYPE sink_writes counter"), "{text}");
    assert!(text.ends_with("# EOF\n"));

    for accept in [None, Some("text/plain"), Some("*/*")] {
        let (content_type, text) = scrape(&app, accept).await;
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        assert!(text.contains("# TYPE sink_writes_total counter"), "{text}");
        assert!(text.contains("# HELP sink_writes_total "), "{text}");
        assert!(
            text.contains("sink_writes_total{sink=\"sqlite\",status=\"success\"} 1"),
            "{text}"
        );
        assert!(!text.contains("# EOF"), "{text}");
    }
}

#[tokio::test]
async fn admin_routes_are_401_without_the_right_token() {
    let recorder = Arc::new(Recorder::default());
    let app = admin_app(&recorder);
    for token in [None, Some("wrong"), Some("s3cre"), Some("s3cret ")] {
        let response = call(&app, "POST", "/admin/pause", token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
    let basic = Request::builder()
        .method("POST")
        .uri("/admin/resume")
        .header(header::AUTHORIZATION, "Basic czNjcmV0")
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(basic).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(recorder.actions.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn admin_routes_run_the_action_with_the_token() {
    let recorder = Arc::new(Recorder::default());
    let app = admin_app(&recorder);
    let paused = call(&app, "POST", "/admin/pause", Some("s3cret")).await;
    assert_eq!(paused.status(), StatusCode::OK);
    assert_eq!(json(paused).await["status"], "ok");
    let resumed = call(&app, "POST", "/admin/resume", Some("s3cret")).await;
    assert_eq!(json(resumed).await["detail"], "Resume");
    let reload = call(&app, "POST", "/admin/reload", Some("s3cret")).await;
    assert_eq!(reload.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(json(reload).await["status"], "error");
    assert_eq!(
        *recorder.actions.lock().expect("lock"),
        [
            ControlAction::Pause,
            ControlAction::Resume,
            ControlAction::Reload
        ]
    );
    let get = call(&app, "GET", "/admin/pause", Some("s3cret")).await;
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn admin_routes_are_off_without_a_configured_token() {
    let recorder = Arc::new(Recorder::default());
    let app = router(HttpState::new("store", "1").with_admin(
        AdminToken::new(""),
        Arc::clone(&recorder) as Arc<dyn AdminActions>,
    ));
    for token in [None, Some("")] {
        let response = call(&app, "POST", "/admin/pause", token).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert!(recorder.actions.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn serves_on_a_real_listener() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(HttpState::new("store", "1"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let response = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["state"], "healthy");
}
