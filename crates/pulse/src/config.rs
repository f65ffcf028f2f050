//! Pulse settings: read from the environment (or any lookup), validated at start.

use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use core_contracts::Track;
use core_contracts::env::{Env, EnvError};

/// Which bus implementation to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// One shared in-process bus (`inmem`).
    InMemory,
    /// Redis Streams (`redis`).
    Redis,
}

impl BackendKind {
    /// The configuration value naming the backend.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InMemory => "inmem",
            Self::Redis => "redis",
        }
    }
}

/// What to do with a message whose payload hash does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// Count and log the mismatch, then process the message (default).
    Warn,
    /// Dead-letter the message.
    Strict,
}

/// Which foreign writers' forms a reader accepts besides its own canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compat {
    /// Only mdp's own form (`none`, the default).
    #[default]
    None,
    /// Also what the Python originals write (`python`): keys prefixed `{MD_NAMESPACE}:` unless
    /// `PULSE_REDIS_KEY_PREFIX` is set, the schema ids the Python library derives read as
    /// aliases, and market-data-store's envelope-in-an-envelope unwrapped. Writers keep the
    /// canonical form.
    Python,
}

impl Compat {
    /// The configuration value naming the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Python => "python",
        }
    }
}

/// Every Pulse setting. Build with [`PulseConfig::from_env`], [`PulseConfig::from_lookup`] or
/// start from [`PulseConfig::default`] and set fields.
#[derive(Clone, PartialEq)]
pub struct PulseConfig {
    /// `PULSE_ENABLED` (true): whether services publish and consume at all.
    pub enabled: bool,
    /// `EVENT_BUS_BACKEND` (`inmem`): `inmem` or `redis` (in a build with the cargo feature
    /// `redis`, the default).
    pub backend: BackendKind,
    /// `REDIS_URL` (`redis://localhost:6379/0`): never logged with its password.
    pub redis_url: String,
    /// `REDIS_TLS_CA_FILE` (unset): PEM file of the CA that signed the server's certificate,
    /// for `rediss://` servers with a private CA (otherwise the system's roots are used).
    pub redis_tls_ca_file: Option<std::path::PathBuf>,
    /// `MD_NAMESPACE` (`mdp`): prefix of every stream name.
    pub namespace: String,
    /// `SCHEMA_TRACK` (`v1`): the track this process writes.
    pub track: Track,
    /// `PULSE_REDIS_KEY_PREFIX` (empty, or `{MD_NAMESPACE}:` under `PULSE_COMPAT=python`):
    /// prepended to every Redis key (`mdp:` matches the Python core).
    pub key_prefix: String,
    /// `PULSE_COMPAT` (`none`): `python` also reads what the Python originals write.
    pub compat: Compat,
    /// `PULSE_MAX_DELIVERIES` (5): deliveries before a failing message is dead-lettered.
    pub max_deliveries: NonZeroU32,
    /// `PULSE_IDLE_TIMEOUT_MS` (30000): how long a message may sit unacknowledged with a
    /// consumer before another consumer of the group reclaims it.
    pub idle_timeout: Duration,
    /// `PULSE_RETENTION_MAXLEN` (100000): approximate bound on entries kept per stream.
    pub retention: NonZeroUsize,
    /// `REGISTRY_ENFORCEMENT` (`warn`): `warn` or `strict` handling of hash mismatches.
    pub enforcement: Enforcement,
    /// `PULSE_MAX_MESSAGE_BYTES` (1048576): larger messages are dead-lettered on read and
    /// refused on publish.
    pub max_message_bytes: NonZeroUsize,
    /// `PULSE_READ_COUNT` (100): entries fetched per read.
    pub read_count: NonZeroUsize,
    /// `PULSE_BLOCK_MS` (1000): how long one blocking read waits for new entries.
    pub block: Duration,
    /// `PULSE_IDEMPOTENCY_CAPACITY` (10000): ids remembered by a consumer runner to suppress
    /// duplicates.
    pub idempotency_capacity: NonZeroUsize,
    /// `PULSE_STARTUP_TIMEOUT_MS` (10000): how long a service waits at start for Redis to
    /// answer before it gives up with an error naming the address.
    pub startup_timeout: Duration,
}

impl Default for PulseConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            backend: BackendKind::InMemory,
            redis_url: "redis://localhost:6379/0".into(),
            redis_tls_ca_file: None,
            namespace: "mdp".into(),
            track: Track::V1,
            key_prefix: String::new(),
            compat: Compat::None,
            max_deliveries: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            idle_timeout: Duration::from_secs(30),
            retention: NonZeroUsize::new(100_000).unwrap_or(NonZeroUsize::MIN),
            enforcement: Enforcement::Warn,
            max_message_bytes: NonZeroUsize::new(1 << 20).unwrap_or(NonZeroUsize::MIN),
            read_count: NonZeroUsize::new(100).unwrap_or(NonZeroUsize::MIN),
            block: Duration::from_millis(1000),
            idempotency_capacity: NonZeroUsize::new(10_000).unwrap_or(NonZeroUsize::MIN),
            startup_timeout: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for PulseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PulseConfig")
            .field("enabled", &self.enabled)
            .field("backend", &self.backend)
            .field("redis_url", &redact_url(&self.redis_url))
            .field("redis_tls_ca_file", &self.redis_tls_ca_file)
            .field("namespace", &self.namespace)
            .field("track", &self.track)
            .field("key_prefix", &self.key_prefix)
            .field("compat", &self.compat)
            .field("max_deliveries", &self.max_deliveries)
            .field("idle_timeout", &self.idle_timeout)
            .field("retention", &self.retention)
            .field("enforcement", &self.enforcement)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("read_count", &self.read_count)
            .field("block", &self.block)
            .field("idempotency_capacity", &self.idempotency_capacity)
            .field("startup_timeout", &self.startup_timeout)
            .finish()
    }
}

/// A setting that cannot be used; names the variable and what it accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {variable}={value:?}: expected {expected}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: &'static str,
    /// The value found (redacted for URLs).
    pub value: String,
    /// What is accepted.
    pub expected: String,
}

impl From<EnvError> for ConfigError {
    fn from(e: EnvError) -> Self {
        Self {
            variable: e.var,
            value: e.value,
            expected: e.expected,
        }
    }
}

impl PulseConfig {
    /// Reads every setting from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup` (a variable name to its value, if set).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let env = Env::new(&lookup);
        let compat = env.choice(
            "PULSE_COMPAT",
            Compat::None,
            &[("none", Compat::None), ("python", Compat::Python)],
        )?;
        let mut config = Self {
            enabled: env.bool("PULSE_ENABLED", d.enabled)?,
            backend: parse_backend(env.raw("EVENT_BUS_BACKEND").as_deref(), REDIS_BUILT)?,
            redis_url: match env.raw("REDIS_URL") {
                None => d.redis_url,
                Some(url) => validate_redis_url(url)?,
            },
            redis_tls_ca_file: env.raw("REDIS_TLS_CA_FILE").map(std::path::PathBuf::from),
            namespace: match env.exact("MD_NAMESPACE") {
                None => d.namespace,
                Some(ns) => validate_namespace(ns.trim())?,
            },
            track: env.choice(
                "SCHEMA_TRACK",
                Track::V1,
                &[("v1", Track::V1), ("v2", Track::V2)],
            )?,
            key_prefix: env.exact("PULSE_REDIS_KEY_PREFIX").unwrap_or_default(),
            compat,
            max_deliveries: env.non_zero("PULSE_MAX_DELIVERIES", d.max_deliveries)?,
            idle_timeout: env.positive_millis("PULSE_IDLE_TIMEOUT_MS", d.idle_timeout)?,
            retention: env.non_zero("PULSE_RETENTION_MAXLEN", d.retention)?,
            enforcement: env.choice(
                "REGISTRY_ENFORCEMENT",
                Enforcement::Warn,
                &[("warn", Enforcement::Warn), ("strict", Enforcement::Strict)],
            )?,
            max_message_bytes: env.non_zero("PULSE_MAX_MESSAGE_BYTES", d.max_message_bytes)?,
            read_count: env.non_zero("PULSE_READ_COUNT", d.read_count)?,
            block: env.positive_millis("PULSE_BLOCK_MS", d.block)?,
            idempotency_capacity: env
                .non_zero("PULSE_IDEMPOTENCY_CAPACITY", d.idempotency_capacity)?,
            startup_timeout: env.positive_millis("PULSE_STARTUP_TIMEOUT_MS", d.startup_timeout)?,
        };
        if compat == Compat::Python && env.exact("PULSE_REDIS_KEY_PREFIX").is_none() {
            // The Python bus stores stream `s` under `{namespace}:s`.
            config.key_prefix = format!("{}:", config.namespace);
        }
        Ok(config)
    }

    /// The Redis URL with any password replaced by `***`, safe to log.
    pub fn redis_url_redacted(&self) -> String {
        redact_url(&self.redis_url)
    }

    /// Where `REDIS_URL` points: `host:port` (port 6379 when not given), or the socket path
    /// of a `unix://` URL.
    pub fn redis_address(&self) -> String {
        redis_address(&self.redis_url)
    }
}

fn invalid(variable: &'static str, value: &str, expected: &str) -> ConfigError {
    ConfigError {
        variable,
        value: value.to_owned(),
        expected: expected.to_owned(),
    }
}

/// Whether this build has the Redis Streams backend (cargo feature `redis`).
const REDIS_BUILT: bool = cfg!(feature = "redis");

/// What a build without the Redis Streams backend says to `EVENT_BUS_BACKEND=redis`.
pub(crate) const NO_REDIS_BACKEND: &str =
    "inmem: this build of pulse has no Redis Streams backend (cargo feature `redis` is off)";

/// `EVENT_BUS_BACKEND`; `redis` only when `redis_built` (the backend is compiled in).
fn parse_backend(value: Option<&str>, redis_built: bool) -> Result<BackendKind, ConfigError> {
    let lowered = value.map(str::to_ascii_lowercase);
    match (value, lowered.as_deref()) {
        (None, _) | (_, Some("inmem")) => Ok(BackendKind::InMemory),
        (_, Some("redis")) if redis_built => Ok(BackendKind::Redis),
        (Some(raw), Some("redis")) => Err(invalid("EVENT_BUS_BACKEND", raw, NO_REDIS_BACKEND)),
        (Some(other), _) if redis_built => {
            Err(invalid("EVENT_BUS_BACKEND", other, "one of inmem, redis"))
        }
        (Some(other), _) => Err(invalid("EVENT_BUS_BACKEND", other, "inmem")),
    }
}

/// Whether the Redis client reads `url` as a server address.
#[cfg(feature = "redis")]
fn well_formed_redis_url(url: &str) -> bool {
    redis::parse_redis_url(url).is_some()
}

/// Without the Redis backend no connection is ever made: the scheme is all that is checked.
#[cfg(not(feature = "redis"))]
fn well_formed_redis_url(_url: &str) -> bool {
    true
}

fn validate_redis_url(url: String) -> Result<String, ConfigError> {
    let ok = ["redis://", "rediss://", "unix://", "redis+unix://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
        && well_formed_redis_url(&url);
    if ok {
        Ok(url)
    } else {
        Err(invalid(
            "REDIS_URL",
            &redact_url(&url),
            "a URL such as redis://[:password@]host:6379/0 or rediss://...",
        ))
    }
}

fn validate_namespace(ns: &str) -> Result<String, ConfigError> {
    if ns.is_empty() || ns.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid(
            "MD_NAMESPACE",
            ns,
            "a non-empty name without whitespace, e.g. mdp",
        ));
    }
    Ok(ns.to_owned())
}

/// `host:port` of a Redis URL (6379 when no port is given; the path of a `unix://` URL).
pub fn redis_address(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_url(url);
    };
    if scheme.contains("unix") {
        return rest.split('?').next().unwrap_or(rest).to_owned();
    }
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let has_port = match host_port.rsplit_once(':') {
        Some((host, port)) => !port.is_empty() && !host.ends_with(':') && !port.contains(']'),
        None => false,
    };
    if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:6379")
    }
}

/// `url` with the password part of its userinfo replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        None => url.to_owned(),
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{path}")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<PulseConfig, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        PulseConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).expect("defaults are valid");
        assert_eq!(c, PulseConfig::default());
        assert_eq!(c.backend, BackendKind::InMemory);
        assert_eq!(c.max_deliveries.get(), 5);
        assert_eq!(c.retention.get(), 100_000);
    }

    #[test]
    fn every_variable_is_read() {
        let c = config(&[
            ("PULSE_ENABLED", "false"),
            ("EVENT_BUS_BACKEND", "redis"),
            ("REDIS_URL", "redis://:pw@10.0.0.1:6380/2"),
            ("MD_NAMESPACE", "md"),
            ("SCHEMA_TRACK", "v2"),
            ("PULSE_REDIS_KEY_PREFIX", "mdp:"),
            ("PULSE_MAX_DELIVERIES", "3"),
            ("PULSE_IDLE_TIMEOUT_MS", "250"),
            ("PULSE_RETENTION_MAXLEN", "1000"),
            ("REGISTRY_ENFORCEMENT", "strict"),
            ("PULSE_MAX_MESSAGE_BYTES", "2048"),
            ("PULSE_READ_COUNT", "10"),
            ("PULSE_BLOCK_MS", "20"),
            ("PULSE_IDEMPOTENCY_CAPACITY", "7"),
            ("REDIS_TLS_CA_FILE", "/etc/ssl/private-ca.pem"),
        ])
        .expect("valid");
        assert!(!c.enabled);
        assert_eq!(c.backend, BackendKind::Redis);
        assert_eq!(c.namespace, "md");
        assert_eq!(c.track, Track::V2);
        assert_eq!(c.key_prefix, "mdp:");
        assert_eq!(c.max_deliveries.get(), 3);
        assert_eq!(c.idle_timeout, Duration::from_millis(250));
        assert_eq!(c.retention.get(), 1000);
        assert_eq!(c.enforcement, Enforcement::Strict);
        assert_eq!(c.max_message_bytes.get(), 2048);
        assert_eq!(c.read_count.get(), 10);
        assert_eq!(c.block, Duration::from_millis(20));
        assert_eq!(c.idempotency_capacity.get(), 7);
        assert_eq!(
            c.redis_tls_ca_file.as_deref(),
            Some(std::path::Path::new("/etc/ssl/private-ca.pem"))
        );
    }

    #[test]
    fn python_compat_derives_the_key_prefix_from_the_namespace_unless_one_is_given() {
        let c = config(&[("PULSE_COMPAT", "python"), ("MD_NAMESPACE", "md")]).expect("valid");
        assert_eq!(c.compat, Compat::Python);
        assert_eq!(c.key_prefix, "md:");
        let c = config(&[("PULSE_COMPAT", "python")]).expect("valid");
        assert_eq!(c.key_prefix, "mdp:");
        let explicit = [("PULSE_COMPAT", "python"), ("PULSE_REDIS_KEY_PREFIX", "")];
        assert_eq!(config(&explicit).expect("valid").key_prefix, "");
        let c = config(&[("PULSE_COMPAT", "none"), ("MD_NAMESPACE", "md")]).expect("valid");
        assert_eq!((c.compat, c.key_prefix.as_str()), (Compat::None, ""));
    }

    #[test]
    fn the_redis_backend_is_refused_clearly_by_a_build_without_it() {
        let err = parse_backend(Some("redis"), false).expect_err("not built");
        assert_eq!(err.variable, "EVENT_BUS_BACKEND");
        assert!(err.to_string().contains("feature `redis`"), "{err}");
        assert_eq!(
            parse_backend(Some("inmem"), false),
            Ok(BackendKind::InMemory)
        );
        assert_eq!(parse_backend(None, false), Ok(BackendKind::InMemory));
        let err = parse_backend(Some("kafka"), false).expect_err("unknown");
        assert_eq!(err.expected, "inmem");
        assert_eq!(parse_backend(Some("redis"), true), Ok(BackendKind::Redis));
        assert_eq!(parse_backend(Some("Redis"), true), Ok(BackendKind::Redis));
        assert_eq!(
            parse_backend(Some("INMEM"), false),
            Ok(BackendKind::InMemory)
        );
    }

    #[test]
    fn this_build_reads_the_backend_its_features_give() {
        let parsed = config(&[("EVENT_BUS_BACKEND", "redis")]);
        if cfg!(feature = "redis") {
            assert_eq!(parsed.expect("built").backend, BackendKind::Redis);
        } else {
            assert_eq!(parsed.expect_err("not built").expected, NO_REDIS_BACKEND);
        }
    }

    #[test]
    fn bad_values_name_the_variable_and_the_accepted_values() {
        for (var, value, expected) in [
            ("EVENT_BUS_BACKEND", "kafka", "inmem, redis"),
            ("SCHEMA_TRACK", "v3", "v1, v2"),
            ("REGISTRY_ENFORCEMENT", "loose", "warn, strict"),
            ("PULSE_ENABLED", "maybe", "boolean"),
            ("PULSE_MAX_DELIVERIES", "0", "positive integer"),
            ("PULSE_IDLE_TIMEOUT_MS", "-5", "milliseconds"),
            ("REDIS_URL", "http://x", "redis://"),
            ("MD_NAMESPACE", "", "non-empty"),
            ("PULSE_COMPAT", "java", "none, python"),
        ] {
            let err = config(&[(var, value)]).expect_err("rejected").to_string();
            assert!(err.contains(var) && err.contains(expected), "{var}: {err}");
        }
    }

    #[test]
    fn passwords_are_never_shown() {
        let err = config(&[("REDIS_URL", "ftp://user:secret@host/0")]).expect_err("rejected");
        assert!(!err.to_string().contains("secret"), "{err}");
        let c = config(&[("REDIS_URL", "rediss://user:secret@host:6380/1")]).expect("valid");
        assert!(!format!("{c:?}").contains("secret"));
        assert_eq!(c.redis_url_redacted(), "rediss://user:***@host:6380/1");
        assert_eq!(c.redis_address(), "host:6380");
        assert_eq!(redis_address("redis://localhost"), "localhost:6379");
        assert_eq!(redis_address("redis://:pw@10.0.0.1/0"), "10.0.0.1:6379");
        assert_eq!(redis_address("redis://[::1]:7000/0"), "[::1]:7000");
        assert_eq!(redis_address("redis://[::1]/0"), "[::1]:6379");
        assert_eq!(
            redis_address("unix:///run/redis.sock?db=1"),
            "/run/redis.sock"
        );
        assert_eq!(redact_url("redis://:pw@h:1/0"), "redis://:***@h:1/0");
        assert_eq!(redact_url("redis://h:1/0"), "redis://h:1/0");
    }
}
