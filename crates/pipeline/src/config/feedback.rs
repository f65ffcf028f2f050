//! Feedback settings: `MDP_FB_*`.

use std::sync::OnceLock;
use std::time::Duration;

use super::ConfigError;
use core_contracts::env::Env;

use super::error::invalid;
use crate::feedback::{AdaptiveLaw, FeedbackMode, ScalePolicy, WhenNoStore, Windows};

/// Whether feedback is applied (default true).
pub const ENABLE_FEEDBACK: &str = "MDP_FB_ENABLE_FEEDBACK";
/// The provider whose rate feedback adjusts (default `ibkr`).
pub const PROVIDER_NAME: &str = "MDP_FB_PROVIDER_NAME";
/// Budget scale at level ok (default 1.0).
pub const SCALE_OK: &str = "MDP_FB_SCALE_OK";
/// Budget scale at level soft (default 0.5).
pub const SCALE_SOFT: &str = "MDP_FB_SCALE_SOFT";
/// Budget scale at level hard (default 0.0, a pause).
pub const SCALE_HARD: &str = "MDP_FB_SCALE_HARD";
/// The stores' heartbeat period in seconds (default 5); three missed heartbeats make a store
/// coordinator count as soft.
pub const HEARTBEAT_SEC: &str = "MDP_FB_HEARTBEAT_SEC";
/// Seconds of silence after which a store coordinator is forgotten (default 300).
pub const FORGET_AFTER_SEC: &str = "MDP_FB_FORGET_AFTER_SEC";
/// The name this pipeline's feedback reader goes by in logs (default
/// `pipeline-{pid}-{8 hex digits}`, fixed for the life of the process). Every pipeline reads
/// every feedback event, whatever its name.
pub const CONSUMER_NAME: &str = "MDP_FB_CONSUMER_NAME";
/// What the pipeline does while it knows no live store: `pause` (default), `soft` or `ok`.
pub const WHEN_NO_STORE: &str = "MDP_FB_WHEN_NO_STORE";
/// Backlog of the bars stream for the store group (undelivered + pending) above which the
/// pipeline holds; above half of it, it goes soft (default 50000).
pub const MAX_BACKLOG: &str = "MDP_MAX_BACKLOG";

/// How feedback becomes a budget scale: `levels` (default) or `adaptive`.
pub const MODE: &str = "MDP_FB_MODE";
/// The lowest scale of adaptive mode while the level is below hard (default 0.01).
pub const ADAPTIVE_FLOOR: &str = "MDP_FB_ADAPTIVE_FLOOR";

/// Default [`MAX_BACKLOG`]: about 15 MB of bars in Redis.
pub const DEFAULT_MAX_BACKLOG: u64 = 50_000;

/// How the pipeline reacts to the stores' feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackSettings {
    /// Whether feedback events are applied at all.
    pub enabled: bool,
    /// The provider adjusted.
    pub provider_name: String,
    /// Budget scale per level.
    pub policy: ScalePolicy,
    /// The stores' heartbeat period (also the handler's tick).
    pub heartbeat: Duration,
    /// Staleness window (three heartbeats) and forget-after.
    pub windows: Windows,
    /// The feedback reader's name in logs.
    pub consumer_name: String,
    /// What holds while no live store is known.
    pub when_no_store: WhenNoStore,
    /// Backlog of the bars stream above which the pipeline holds.
    pub max_backlog: u64,
    /// Levels or adaptive.
    pub mode: FeedbackMode,
    /// The lowest scale of adaptive mode below hard, in `(0, 1]`.
    pub adaptive_floor: f64,
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            provider_name: "ibkr".to_owned(),
            policy: ScalePolicy::default(),
            heartbeat: Duration::from_secs(5),
            windows: Windows::default(),
            consumer_name: default_consumer_name().to_owned(),
            when_no_store: WhenNoStore::default(),
            max_backlog: DEFAULT_MAX_BACKLOG,
            mode: FeedbackMode::default(),
            adaptive_floor: crate::feedback::adaptive::DEFAULT_FLOOR,
        }
    }
}

/// `pipeline-{pid}-{8 hex digits of a random uuid}`, drawn once per process.
///
/// ```
/// let name = pipeline::config::feedback::default_consumer_name();
/// assert!(name.starts_with(&format!("pipeline-{}-", std::process::id())));
/// assert_eq!(name, pipeline::config::feedback::default_consumer_name());
/// ```
pub fn default_consumer_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let random = uuid::Uuid::new_v4().simple().to_string();
        format!("pipeline-{}-{}", std::process::id(), &random[..8])
    })
}

impl FeedbackSettings {
    pub(crate) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let enabled = env.bool(ENABLE_FEEDBACK, defaults.enabled)?;
        let provider_name = env.string(PROVIDER_NAME, &defaults.provider_name);
        let ok = env.unit(SCALE_OK, 1.0)?;
        let soft = env.unit(SCALE_SOFT, 0.5)?;
        let hard = env.unit(SCALE_HARD, 0.0)?;
        let policy = ScalePolicy::new(ok, soft, hard).map_err(|e| {
            invalid(
                "MDP_FB_SCALE_OK, MDP_FB_SCALE_SOFT, MDP_FB_SCALE_HARD",
                &format!("{ok}, {soft}, {hard}"),
                &e.to_string(),
            )
        })?;
        let heartbeat = env.secs(HEARTBEAT_SEC, Duration::from_secs(5))?;
        let forget_after = env.secs(FORGET_AFTER_SEC, Duration::from_secs(300))?;
        let windows = Windows::from_heartbeat(heartbeat, forget_after).map_err(|_| {
            invalid(
                FORGET_AFTER_SEC,
                &forget_after.as_secs_f64().to_string(),
                &format!(
                    "must exceed three heartbeats ({HEARTBEAT_SEC} x 3 = {} s)",
                    heartbeat.as_secs_f64() * 3.0
                ),
            )
        })?;
        let consumer_name = env.name(CONSUMER_NAME, default_consumer_name())?;
        let when_no_store =
            env.parse(WHEN_NO_STORE, defaults.when_no_store, "pause, soft or ok")?;
        let max_backlog = env.count(MAX_BACKLOG, defaults.max_backlog)?;
        let mode = env.parse(MODE, defaults.mode, "levels or adaptive")?;
        let adaptive_floor = env.unit(ADAPTIVE_FLOOR, defaults.adaptive_floor)?;
        AdaptiveLaw::new(adaptive_floor)
            .map_err(|e| invalid(ADAPTIVE_FLOOR, &adaptive_floor.to_string(), &e.to_string()))?;
        Ok(Self {
            enabled,
            provider_name,
            policy,
            heartbeat,
            windows,
            consumer_name,
            when_no_store,
            max_backlog,
            mode,
            adaptive_floor,
        })
    }
}
