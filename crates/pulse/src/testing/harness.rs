//! [`Harness`]: one backend per test with a unique key prefix, its Redis keys deleted on drop.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Duration;

use crate::backend::memory::InMemoryBus;
use core_contracts::Track;

use super::ci::skip;
use crate::backend::redis_streams::RedisStreamsBus;
use crate::{BackendKind, EventBus, Pulse, PulseConfig};

/// The Redis the tests use: `MDP_TEST_REDIS_URL` or the local default.
pub fn redis_url() -> String {
    std::env::var("MDP_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

/// Whether Redis answers; an unreachable Redis is a [`skip`] (a failure under CI).
pub fn redis_available() -> bool {
    let url = redis_url();
    let reachable = redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
        .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
        .is_ok();
    if !reachable {
        skip(&format!(
            "Redis is not reachable at {url}; start it (or set MDP_TEST_REDIS_URL) to run this test"
        ));
    }
    reachable
}

/// A test's view of one backend, with a unique key prefix; Redis keys are deleted on drop.
pub struct Harness {
    /// The backend.
    pub bus: Arc<dyn EventBus>,
    /// The key prefix every stream of this test lives under.
    pub prefix: String,
    redis: Option<String>,
    /// The track its `Pulse`s write.
    track: Track,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("backend", &self.bus.kind())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A config for fast tests: short idle timeout and blocking reads.
pub fn test_config(backend: BackendKind, prefix: &str) -> PulseConfig {
    PulseConfig {
        backend,
        redis_url: redis_url(),
        key_prefix: prefix.to_owned(),
        max_deliveries: NonZeroU32::new(3).expect("non-zero"),
        idle_timeout: Duration::from_millis(300),
        block: Duration::from_millis(50),
        read_count: NonZeroUsize::new(100).expect("non-zero"),
        ..PulseConfig::default()
    }
}

impl Harness {
    /// A private in-memory bus.
    pub fn memory() -> Self {
        Self {
            bus: Arc::new(InMemoryBus::new()),
            prefix: unique_prefix(),
            redis: None,
            track: Track::V1,
        }
    }

    /// The local Redis, or `None` after a [`skip`] when it is unreachable (a failure under CI).
    pub async fn redis() -> Option<Self> {
        if !redis_available() {
            return None;
        }
        let prefix = unique_prefix();
        let bus = RedisStreamsBus::connect(&test_config(BackendKind::Redis, &prefix))
            .await
            .expect("redis bus opens");
        Some(Self {
            bus: Arc::new(bus),
            prefix,
            redis: Some(redis_url()),
            track: Track::V1,
        })
    }

    /// A harness on `backend`: [`Harness::memory`] or [`Harness::redis`] (`None` after a
    /// [`skip`] when Redis is unreachable, a failure under CI).
    pub async fn of(backend: BackendKind) -> Option<Self> {
        match backend {
            BackendKind::InMemory => Some(Self::memory()),
            BackendKind::Redis => Self::redis().await,
        }
    }

    /// The same harness, its `Pulse`s writing `track` (v1 unless set).
    pub fn on_track(mut self, track: Track) -> Self {
        self.track = track;
        self
    }

    /// The track its `Pulse`s write.
    pub fn track(&self) -> Track {
        self.track
    }

    /// The backend kind.
    pub fn backend(&self) -> BackendKind {
        if self.redis.is_some() {
            BackendKind::Redis
        } else {
            BackendKind::InMemory
        }
    }

    /// A `Pulse` on this harness's bus with the test config, adjusted by `tweak`.
    pub fn pulse_with(&self, tweak: impl FnOnce(&mut PulseConfig)) -> Pulse {
        let mut config = test_config(self.backend(), &self.prefix);
        config.track = self.track;
        tweak(&mut config);
        Pulse::new(self.bus.clone(), config)
    }

    /// A `Pulse` with the test config.
    pub fn pulse(&self) -> Pulse {
        self.pulse_with(|_| {})
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let Some(url) = &self.redis else { return };
        let Ok(mut conn) = redis::Client::open(url.as_str()).and_then(|c| c.get_connection())
        else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut conn)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// A key prefix no other test uses.
pub fn unique_prefix() -> String {
    format!("t{}:", uuid::Uuid::new_v4().simple())
}
