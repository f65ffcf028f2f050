//! What the HTTP routes are given: service identity, readiness checks, health components,
//! the metrics registry and the admin actions with their token.

use std::sync::Arc;
use std::time::Duration;

use core_contracts::HealthComponent;
use prometheus_client::registry::Registry;

use super::{AdminActions, ReadinessCheck};
use crate::config::AdminToken;

/// Extra health components reported by `/healthz` (e.g. one per coordinator).
pub type ComponentsFn = Arc<dyn Fn() -> Vec<HealthComponent> + Send + Sync>;

/// The injected state of the store's HTTP routes; build it, then call [`super::router`].
#[derive(Clone)]
pub struct HttpState {
    pub(super) service: String,
    pub(super) version: String,
    pub(super) checks: Vec<(String, Arc<dyn ReadinessCheck>)>,
    pub(super) components: Option<ComponentsFn>,
    pub(super) registry: Option<Arc<Registry>>,
    pub(super) admin: Option<(AdminToken, Arc<dyn AdminActions>)>,
    pub(super) check_timeout: Duration,
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState")
            .field("service", &self.service)
            .field("version", &self.version)
            .field(
                "checks",
                &self.checks.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("admin", &self.admin.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpState {
    /// State for `service` at `version`, with no checks, no metrics and admin routes off.
    pub fn new(service: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            version: version.into(),
            checks: Vec::new(),
            components: None,
            registry: None,
            admin: None,
            check_timeout: Duration::from_secs(2),
        }
    }

    /// Adds a readiness check named `name` (e.g. `sink`, `bus`); `/readyz` fails while any
    /// check says no.
    pub fn with_readiness(
        mut self,
        name: impl Into<String>,
        check: Arc<dyn ReadinessCheck>,
    ) -> Self {
        self.checks.push((name.into(), check));
        self
    }

    /// Adds health components computed on every `/healthz`.
    pub fn with_components(mut self, components: ComponentsFn) -> Self {
        self.components = Some(components);
        self
    }

    /// Serves `registry` on `/metrics`.
    pub fn with_metrics(mut self, registry: Arc<Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Turns the admin routes on behind `token`; with `None` they stay off (404).
    pub fn with_admin(mut self, token: Option<AdminToken>, actions: Arc<dyn AdminActions>) -> Self {
        self.admin = token.map(|token| (token, actions));
        self
    }

    /// How long one readiness check may take before it counts as not ready (2 s).
    pub fn with_check_timeout(mut self, timeout: Duration) -> Self {
        self.check_timeout = timeout;
        self
    }
}
