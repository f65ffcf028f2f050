//! Settings read from an injected environment.

mod support;

use std::time::Duration;

use pipeline::PipelineSettings;
use pipeline::config::{ConfigError, SourceKind};
use pipeline::feedback::WhenNoStore;
use support::env;

fn read(pairs: &[(&str, &str)]) -> Result<PipelineSettings, ConfigError> {
    PipelineSettings::from_lookup(&env(pairs))
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let settings = read(&[]).expect("defaults are valid");
    let fb = &settings.feedback;
    assert!(fb.enabled);
    assert_eq!(fb.provider_name, "ibkr");
    assert_eq!(fb.heartbeat, Duration::from_secs(5));
    assert_eq!(fb.when_no_store, WhenNoStore::Pause, "fail closed");
    assert_eq!(fb.max_backlog, 50_000);
    assert_eq!(fb.windows.stale_after(), Duration::from_secs(15));
    assert_eq!(fb.windows.forget_after(), Duration::from_secs(300));
    assert_eq!(
        (settings.rate.capacity, settings.rate.refill_rate),
        (60, 60.0)
    );
    assert_eq!(settings.source.batch_size, 50);
    assert_eq!(settings.source.max_bars, None);
    assert!(matches!(
        settings.source.kind,
        SourceKind::Synthetic { seed: 42, .. }
    ));
}

#[test]
fn every_value_is_read() {
    let settings = read(&[
        ("MDP_FB_HEARTBEAT_SEC", "2"),
        ("MDP_FB_FORGET_AFTER_SEC", "60"),
        ("MDP_RATE_CAPACITY", "100"),
        ("MDP_RATE_REFILL_PER_SEC", "12.5"),
        ("MDP_RATE_BREAKER_THRESHOLD", "3"),
        ("MDP_RATE_BREAKER_OPEN_SEC", "0.5"),
        ("MDP_SOURCE", "csv"),
        ("MDP_SOURCE_CSV_PATH", "bars.csv"),
        ("MDP_SOURCE_BATCH_SIZE", "100"),
        ("MDP_SOURCE_MAX_BARS", "1000"),
        ("MDP_FB_WHEN_NO_STORE", "soft"),
        ("MDP_MAX_BACKLOG", "20000"),
    ])
    .expect("valid");
    assert_eq!(settings.feedback.when_no_store, WhenNoStore::Soft);
    assert_eq!(settings.feedback.max_backlog, 20_000);
    assert_eq!(
        settings.feedback.windows.stale_after(),
        Duration::from_secs(6)
    );
    assert_eq!(settings.rate.refill_rate, 12.5);
    assert_eq!(settings.rate.breaker_threshold, 3);
    assert_eq!(settings.rate.breaker_open_for, Duration::from_millis(500));
    assert_eq!(settings.source.batch_size, 100);
    assert_eq!(settings.source.max_bars, Some(1000));
    assert!(matches!(settings.source.kind, SourceKind::Csv { .. }));
}

#[test]
fn a_bad_value_names_its_variable() {
    let cases: &[&[(&str, &str)]] = &[
        &[("MDP_FB_ENABLE_FEEDBACK", "perhaps")],
        &[("MDP_FB_SCALE_OK", "2")],
        &[("MDP_FB_SCALE_HARD", "x")],
        &[("MDP_FB_HEARTBEAT_SEC", "0")],
        &[("MDP_FB_FORGET_AFTER_SEC", "-3")],
        &[("MDP_RATE_CAPACITY", "0")],
        &[("MDP_RATE_REFILL_PER_SEC", "inf")],
        &[("MDP_RATE_BREAKER_THRESHOLD", "1.5")],
        &[("MDP_SOURCE", "kafka")],
        &[("MDP_SOURCE_SEED", "-1")],
        &[("MDP_SOURCE_BATCH_SIZE", "61")],
        &[("MDP_SOURCE_MAX_BARS", "0")],
        &[("MDP_SOURCE_SYMBOLS", " , ")],
        &[("MDP_FB_CONSUMER_NAME", "")],
        &[("MDP_FB_CONSUMER_NAME", "   ")],
        &[("MDP_FB_CONSUMER_NAME", "two words")],
        &[("MDP_FB_WHEN_NO_STORE", "hold")],
        &[("MDP_MAX_BACKLOG", "0")],
        &[("MDP_MAX_BACKLOG", "lots")],
    ];
    for pairs in cases {
        let (var, _) = pairs[0];
        let err = read(pairs).expect_err("invalid");
        assert!(err.to_string().contains(var), "{var}: {err}");
    }
}

#[test]
fn rules_across_variables_name_the_variable_to_change() {
    let err = read(&[("MDP_FB_HEARTBEAT_SEC", "100")]).expect_err("forget < 3 heartbeats");
    assert!(err.to_string().contains("MDP_FB_FORGET_AFTER_SEC"), "{err}");
    let err = read(&[("MDP_FB_SCALE_SOFT", "0.2"), ("MDP_FB_SCALE_HARD", "0.4")])
        .expect_err("hard faster than soft");
    assert!(err.to_string().contains("MDP_FB_SCALE_"), "{err}");
    let err = read(&[("MDP_SOURCE", "csv")]).expect_err("path missing");
    assert_eq!(
        err,
        ConfigError::Missing {
            var: "MDP_SOURCE_CSV_PATH",
            reason: "MDP_SOURCE=csv replays that file".into()
        }
    );
}

#[test]
fn the_consumer_name_is_unique_per_process_unless_set() {
    let name = read(&[]).expect("defaults").feedback.consumer_name;
    let prefix = format!("pipeline-{}-", std::process::id());
    let suffix = name.strip_prefix(&prefix).expect("pipeline-{pid}-");
    assert_eq!(suffix.len(), 8, "{name}");
    assert!(suffix.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
    assert_eq!(
        read(&[]).expect("defaults").feedback.consumer_name,
        name,
        "fixed for the life of the process"
    );
    let set = read(&[("MDP_FB_CONSUMER_NAME", "pipeline-eu-1")]).expect("valid");
    assert_eq!(set.feedback.consumer_name, "pipeline-eu-1");
}

#[test]
fn an_empty_consumer_name_is_refused_with_a_clear_message() {
    let err = read(&[("MDP_FB_CONSUMER_NAME", "")]).expect_err("empty");
    assert_eq!(
        err.to_string(),
        "MDP_FB_CONSUMER_NAME=\"\": expected a non-empty name without whitespace (unset it to use the default)"
    );
}
