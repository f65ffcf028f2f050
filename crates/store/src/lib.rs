//! The store side of mdp (SPEC §4).
//!
//! - [`queue::BoundedQueue`]: the bounded write queue with its watermark signal machine.
//! - [`coordinator::WriteCoordinator`]: workers that batch, retry, break the circuit and
//!   dead-letter ([`dead_letter`]) into a [`sink::Sink`].
//! - [`feedback::FeedbackBus`]: in-process fan-out of feedback events to subscribers.
//! - [`telemetry`]: metric names and handles (time comes from [`core_contracts::TokioClock`],
//!   which tokio's test clock controls).
//! - [`config::StoreSettings`]: settings read from the environment; [`sink::open_sink`]: the
//!   SQLite (feature `sqlite`), PostgreSQL (feature `postgres`) or memory sink a
//!   `DATABASE_URL` names.
//! - [`bus_feedback::PulseFeedbackPublisher`] and [`bus_feedback::spawn_heartbeat`]: feedback
//!   on the Pulse bus, with a level heartbeat and a utilization report (feature `pulse`).
//! - [`service::StoreService`]: a store fed from the bars stream on the bus, acknowledging
//!   each entry once its bar is written (feature `service`).
//! - [`http::router`]: health, readiness, metrics and admin routes (feature `http`);
//!   [`webhook::WebhookBroadcaster`]: the feedback webhook (feature `webhook`).
//!
//! Features: `default = ["service", "sqlite", "postgres", "http", "webhook"]`; with
//! `default-features = false` the crate is the core above (queue, coordinator, dead letters,
//! feedback bus, telemetry, settings, the memory sink) without a C build, an HTTP stack or a
//! database driver. `service` turns on `pulse`, `http` and `webhook`.

// The docs name the modules of every feature; a build without some of them links to fewer.
#![cfg_attr(
    not(all(feature = "service", feature = "sqlite", feature = "postgres")),
    allow(rustdoc::broken_intra_doc_links)
)]

#[cfg(feature = "pulse")]
pub mod bus_feedback;
pub mod config;
pub mod coordinator;
pub mod dead_letter;
#[cfg(any(feature = "postgres", feature = "webhook"))]
mod error_chain;
pub mod feedback;
#[cfg(feature = "http")]
pub mod http;
pub mod queue;
#[cfg(feature = "service")]
pub mod service;
pub mod sink;
pub mod telemetry;
#[cfg(feature = "webhook")]
pub mod webhook;
