//! The store side of mdp (SPEC §4).
//!
//! - [`queue::BoundedQueue`]: the bounded write queue with its watermark signal machine.
//! - [`coordinator::WriteCoordinator`]: workers that batch, retry, break the circuit and
//!   dead-letter ([`dead_letter`]) into a [`sink::Sink`].
//! - [`feedback::FeedbackBus`]: in-process fan-out of feedback events to subscribers.
//! - [`telemetry`]: metric names and handles (time comes from [`core_contracts::TokioClock`],
//!   which tokio's test clock controls).
//! - [`config::StoreSettings`]: settings read from the environment; [`sink::open_sink`]: the
//!   SQLite, PostgreSQL or memory sink a `DATABASE_URL` names.
//! - [`pulse::PulseFeedbackPublisher`] and [`pulse::spawn_heartbeat`]: feedback on the Pulse
//!   bus, with a level heartbeat (feature `pulse`).
//! - [`service::StoreService`]: a store fed from the bars stream on the bus, acknowledging
//!   each entry once its bar is written (feature `service`).
//! - [`http::router`]: health, readiness, metrics and admin routes;
//!   [`webhook::WebhookBroadcaster`]: the feedback webhook.

pub mod config;
pub mod coordinator;
pub mod dead_letter;
mod error_chain;
pub mod feedback;
pub mod http;
#[cfg(feature = "pulse")]
pub mod pulse;
pub mod queue;
#[cfg(feature = "service")]
pub mod service;
pub mod sink;
pub mod telemetry;
pub mod webhook;
