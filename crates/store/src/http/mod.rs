//! The store's HTTP surface (SPEC §4.8): `/health`, `/healthz`, `/readyz`, `/metrics`, and
//! admin routes behind a bearer token; [`probes`] are the routes without the admin ones, which
//! other services of the loop build their routers on.
//!
//! Everything the routes report or do is injected through [`HttpState`]: readiness checks
//! (closures or [`ReadinessCheck`] objects), a metrics registry, and the [`AdminActions`] the
//! admin routes call. [`router`] builds the axum `Router`.

mod admin;
mod auth;
mod health;
mod metrics;
mod readiness;
mod router;
mod state;

pub use admin::AdminActions;
pub use auth::{authorized, require_token};
pub use readiness::{ReadinessCheck, sink_readiness};
pub use router::{probes, router};
pub use state::{ComponentsFn, HttpState};
