//! Store settings read from an injected environment: SPEC defaults, and a bad value stops
//! start-up with an error naming the variable and what it accepts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use store::config::{
    ConfigError, DatabaseUrl, ENV_VARS, RETIRED_VARS, SqliteSynchronous, StoreSettings,
    retired_in_use,
};

fn load(vars: &[(&str, &str)]) -> Result<StoreSettings, ConfigError> {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    StoreSettings::from_lookup(|name| env.get(name).cloned())
}

#[test]
fn defaults_match_the_spec() {
    let s = load(&[]).expect("defaults are valid");
    assert_eq!(s.coordinator.capacity.get(), 10_000);
    assert_eq!(s.coordinator.workers.get(), 4);
    assert_eq!(s.coordinator.batch_size.get(), 500);
    assert_eq!(s.coordinator.flush_interval, Duration::from_millis(250));
    assert_eq!(
        s.retry.give_up_after, None,
        "transient failures never give up"
    );
    assert_eq!(s.retry.initial_backoff, Duration::from_millis(50));
    assert!((s.retry.multiplier - 2.0).abs() < f64::EPSILON);
    assert_eq!(s.retry.max_backoff, Duration::from_millis(2000));
    assert_eq!(s.breaker.failure_threshold.get(), 5);
    assert_eq!(s.breaker.half_open_after, Duration::from_secs(60));
    assert_eq!(s.feedback.webhook, None);
    assert_eq!(s.feedback.heartbeat, Duration::from_secs(5));
    assert_eq!(
        s.sink.database_url,
        DatabaseUrl::Sqlite(PathBuf::from("mdp.db"))
    );
    assert_eq!(s.sink.postgres.schema, "public");
    assert_eq!(s.sink.postgres.copy_threshold.get(), 1000);
    assert_eq!(s.sink.postgres.pool_timeout, Duration::from_secs(30));
    assert_eq!(s.sink.postgres.ca_file, None);
    assert_eq!(s.sink.sqlite_synchronous, SqliteSynchronous::Full);
    assert_eq!(s.admin_token, None);
    assert_eq!(s, StoreSettings::default());
}

#[test]
fn every_variable_is_read() {
    let s = load(&[
        ("MDS_COORDINATOR_CAPACITY", "100"),
        ("MDS_COORDINATOR_WORKERS", "2"),
        ("MDS_COORDINATOR_BATCH_SIZE", "10"),
        ("MDS_COORDINATOR_FLUSH_INTERVAL", "0.5"),
        ("MDS_RETRY_GIVE_UP_AFTER_SEC", "600"),
        ("MDS_RETRY_INITIAL_BACKOFF_MS", "10"),
        ("MDS_RETRY_BACKOFF_MULTIPLIER", "1.5"),
        ("MDS_RETRY_MAX_BACKOFF_MS", "100"),
        ("MDS_CB_FAILURE_THRESHOLD", "2"),
        ("MDS_CB_HALF_OPEN_AFTER_SEC", "1.5"),
        ("MDS_FB_ENABLE_HTTP_BROADCAST", "true"),
        ("MDS_FB_HTTP_ENDPOINT", "http://hooks.example/feedback"),
        ("MDS_FB_HTTP_TIMEOUT", "1"),
        ("MDS_FB_HTTP_MAX_RETRIES", "0"),
        ("MDS_FB_HTTP_BACKOFF", "0.1"),
        ("MDS_FB_HEARTBEAT_SEC", "2"),
        (
            "DATABASE_URL",
            "postgres://mdp@db:5432/market?sslmode=verify-full",
        ),
        ("MDS_PG_SCHEMA", "marketdata"),
        ("MDS_PG_COPY_THRESHOLD", "50"),
        ("MDS_PG_POOL_SIZE", "8"),
        ("MDS_PG_POOL_TIMEOUT_SEC", "2.5"),
        ("MDS_PG_CA_FILE", "/etc/mdp/pg-ca.pem"),
        ("MDS_SQLITE_SYNCHRONOUS", "NORMAL"),
        ("ADMIN_TOKEN", "s3cret"),
    ])
    .expect("valid");
    assert_eq!(s.coordinator.capacity.get(), 100);
    assert_eq!(s.coordinator.workers.get(), 2);
    assert_eq!(s.coordinator.batch_size.get(), 10);
    assert_eq!(s.coordinator.flush_interval, Duration::from_millis(500));
    assert_eq!(s.retry.give_up_after, Some(Duration::from_secs(600)));
    assert_eq!(s.retry.initial_backoff, Duration::from_millis(10));
    assert!((s.retry.multiplier - 1.5).abs() < f64::EPSILON);
    assert_eq!(s.retry.max_backoff, Duration::from_millis(100));
    assert_eq!(s.breaker.failure_threshold.get(), 2);
    assert_eq!(s.breaker.half_open_after, Duration::from_millis(1500));
    let hook = s.feedback.webhook.expect("enabled");
    assert_eq!(hook.endpoint, "http://hooks.example/feedback");
    assert_eq!(hook.timeout, Duration::from_secs(1));
    assert_eq!(hook.max_retries, 0);
    assert_eq!(hook.backoff, Duration::from_millis(100));
    assert_eq!(s.feedback.heartbeat, Duration::from_secs(2));
    assert_eq!(s.sink.database_url.backend(), "postgres");
    assert_eq!(s.sink.postgres.schema, "marketdata");
    assert_eq!(s.sink.postgres.copy_threshold.get(), 50);
    assert_eq!(s.sink.postgres.pool_size.get(), 8);
    assert_eq!(s.sink.postgres.pool_timeout, Duration::from_millis(2500));
    assert_eq!(
        s.sink.postgres.ca_file.as_deref(),
        Some(std::path::Path::new("/etc/mdp/pg-ca.pem"))
    );
    assert_eq!(s.sink.sqlite_synchronous, SqliteSynchronous::Normal);
    assert_eq!(s.admin_token.expect("set").expose(), "s3cret");
}

#[test]
fn a_bad_value_names_the_variable_and_what_it_accepts() {
    let cases = [
        ("MDS_COORDINATOR_CAPACITY", "0", "positive integer"),
        ("MDS_COORDINATOR_WORKERS", "four", "positive integer"),
        ("MDS_COORDINATOR_BATCH_SIZE", "-1", "positive integer"),
        (
            "MDS_COORDINATOR_FLUSH_INTERVAL",
            "0",
            "positive number of seconds",
        ),
        (
            "MDS_COORDINATOR_FLUSH_INTERVAL",
            "NaN",
            "positive number of seconds",
        ),
        (
            "MDS_RETRY_GIVE_UP_AFTER_SEC",
            "0",
            "positive number of seconds",
        ),
        ("MDS_RETRY_INITIAL_BACKOFF_MS", "1.5", "milliseconds"),
        ("MDS_RETRY_BACKOFF_MULTIPLIER", "0.5", ">= 1"),
        (
            "MDS_RETRY_MAX_BACKOFF_MS",
            "10",
            "at least MDS_RETRY_INITIAL_BACKOFF_MS",
        ),
        ("MDS_CB_FAILURE_THRESHOLD", "x", "positive integer"),
        (
            "MDS_CB_HALF_OPEN_AFTER_SEC",
            "-3",
            "positive number of seconds",
        ),
        ("MDS_FB_ENABLE_HTTP_BROADCAST", "maybe", "true, false"),
        ("MDS_FB_HTTP_ENDPOINT", "ftp://x", "http:// or https://"),
        ("MDS_FB_HTTP_TIMEOUT", "soon", "positive number of seconds"),
        ("MDS_FB_HTTP_MAX_RETRIES", "-1", "non-negative integer"),
        ("MDS_FB_HTTP_BACKOFF", "0", "positive number of seconds"),
        (
            "MDS_FB_HEARTBEAT_SEC",
            "often",
            "positive number of seconds",
        ),
        ("DATABASE_URL", "mysql://db", "sqlite://"),
        ("DATABASE_URL", "mdp.db", "postgres://"),
        ("MDS_PG_SCHEMA", "bad-name", "SQL identifier"),
        ("MDS_PG_COPY_THRESHOLD", "0", "positive integer"),
        ("MDS_PG_POOL_SIZE", "0", "positive integer"),
        ("MDS_PG_POOL_TIMEOUT_SEC", "0", "positive number of seconds"),
        (
            "DATABASE_URL",
            "postgres://db/x?sslmode=allow",
            "verify-full",
        ),
        ("MDS_SQLITE_SYNCHRONOUS", "off", "full or normal"),
    ];
    for (variable, value, expected) in cases {
        let err = load(&[(variable, value)]).expect_err(variable);
        let text = err.to_string();
        assert!(text.contains(variable), "{variable}={value}: {text}");
        assert!(text.contains(expected), "{variable}={value}: {text}");
    }
}

#[test]
fn the_webhook_needs_an_endpoint_when_enabled() {
    let err = load(&[("MDS_FB_ENABLE_HTTP_BROADCAST", "on")]).expect_err("no endpoint");
    assert!(matches!(
        err,
        ConfigError::Missing {
            variable: "MDS_FB_HTTP_ENDPOINT",
            ..
        }
    ));
}

#[test]
fn the_python_webhook_variable_is_an_alias() {
    let s = load(&[
        ("MDS_FB_ENABLE_HTTP_BROADCAST", "1"),
        ("MDS_FB_FEEDBACK_WEBHOOK_URL", "https://hooks.example/fb"),
    ])
    .expect("valid");
    assert_eq!(
        s.feedback.webhook.expect("enabled").endpoint,
        "https://hooks.example/fb"
    );
}

#[test]
fn empty_values_take_the_default_and_an_empty_token_turns_admin_off() {
    let s = load(&[("MDS_COORDINATOR_WORKERS", " "), ("ADMIN_TOKEN", "")]).expect("valid");
    assert_eq!(s.coordinator.workers.get(), 4);
    assert_eq!(s.admin_token, None);
}

#[test]
fn secrets_never_appear_in_errors_or_debug_output() {
    let err = load(&[("DATABASE_URL", "postgres://u:hunter2@db:notaport/x")]).expect_err("bad");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let s = load(&[
        ("DATABASE_URL", "postgres://u:hunter2@db/x"),
        ("ADMIN_TOKEN", "tok-123"),
    ])
    .expect("valid");
    let debug = format!("{s:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("tok-123"),
        "{debug}"
    );
}

#[test]
fn the_catalogue_lists_every_variable_read() {
    let names: Vec<&str> = ENV_VARS.iter().map(|(name, _, _)| *name).collect();
    for name in [
        "MDS_COORDINATOR_CAPACITY",
        "MDS_COORDINATOR_FLUSH_INTERVAL",
        "MDS_RETRY_MAX_BACKOFF_MS",
        "MDS_RETRY_GIVE_UP_AFTER_SEC",
        "MDS_CB_HALF_OPEN_AFTER_SEC",
        "MDS_SQLITE_SYNCHRONOUS",
        "MDS_PG_POOL_TIMEOUT_SEC",
        "MDS_PG_CA_FILE",
        "MDS_FB_HEARTBEAT_SEC",
        "DATABASE_URL",
        "ADMIN_TOKEN",
    ] {
        assert!(names.contains(&name), "{name}");
    }
}

#[test]
fn the_retired_max_attempts_is_ignored_with_a_warning_naming_its_replacement() {
    let s = load(&[("MDS_RETRY_MAX_ATTEMPTS", "0")]).expect("no longer read, so not refused");
    assert_eq!(s, StoreSettings::default());
    let set = |name: &str| (name == "MDS_RETRY_MAX_ATTEMPTS").then(|| "3".to_owned());
    let retired = retired_in_use(&set);
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].0, "MDS_RETRY_MAX_ATTEMPTS");
    assert!(retired[0].1.contains("MDS_RETRY_GIVE_UP_AFTER_SEC"));
    let names: Vec<&str> = ENV_VARS.iter().map(|(name, _, _)| *name).collect();
    for (name, _) in RETIRED_VARS {
        assert!(!names.contains(name), "{name} is retired, not read");
    }
}
