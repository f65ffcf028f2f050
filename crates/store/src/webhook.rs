//! The feedback webhook (SPEC §4.4): POSTs every feedback event as JSON to one URL.
//!
//! The body is `{coordinator_id, queue_size, capacity, level, reason, utilization, source, ts}`.
//! A 5xx answer or a network error (refused, reset, timed out) is retried with exponential
//! backoff (`backoff`, then twice that, ...) up to `max_retries` times; a 4xx answer is the
//! receiver saying no and is not retried. Attach it to a `FeedbackBus` as a
//! [`FeedbackPublisher`] so a slow receiver never holds up the queue.

use std::time::Duration;

use async_trait::async_trait;
use core_contracts::retry::{GaveUp, RetryPolicy, retry};
use core_contracts::{BackpressureLevel, BoxError, FeedbackEvent, FeedbackPublisher, TokioClock};
use serde::Serialize;

use crate::config::{WebhookSettings, redact_url};
use crate::error_chain::error_chain;

/// Why an event did not reach the webhook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The HTTP client could not be built from the settings.
    #[error("cannot build webhook client: {0}")]
    Client(String),
    /// The receiver answered 4xx; not retried.
    #[error("webhook {url} rejected the event with status {status}")]
    Rejected {
        /// The endpoint, password redacted.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// Every attempt failed with a 5xx or a network error.
    #[error("webhook {url} failed after {attempts} attempts: {last}")]
    Exhausted {
        /// The endpoint, password redacted.
        url: String,
        /// Attempts made, the first included.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}

/// The JSON body POSTed for one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookPayload<'a> {
    /// Coordinator that emitted the event.
    pub coordinator_id: &'a str,
    /// Items in its queue.
    pub queue_size: u64,
    /// Its queue capacity.
    pub capacity: u64,
    /// Backpressure level.
    pub level: BackpressureLevel,
    /// Why the level changed, or `null`.
    pub reason: Option<&'a str>,
    /// `queue_size / capacity`.
    pub utilization: f64,
    /// Emitting component, `store`.
    pub source: &'a str,
    /// Time of the event, Unix epoch seconds.
    pub ts: f64,
}

impl<'a> From<&'a FeedbackEvent> for WebhookPayload<'a> {
    fn from(event: &'a FeedbackEvent) -> Self {
        Self {
            coordinator_id: &event.coordinator_id,
            queue_size: event.queue_size,
            capacity: event.capacity,
            level: event.level,
            reason: event.reason.as_deref(),
            utilization: event.utilization(),
            source: &event.source,
            ts: event.ts,
        }
    }
}

/// POSTs feedback events to a webhook with retries.
#[derive(Debug, Clone)]
pub struct WebhookBroadcaster {
    client: reqwest::Client,
    settings: WebhookSettings,
}

/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Why one attempt failed.
enum Failed {
    Retry(String),
    Rejected(u16),
}

impl WebhookBroadcaster {
    /// A broadcaster for `settings` (each POST limited to `settings.timeout`).
    pub fn new(settings: WebhookSettings) -> Result<Self, WebhookError> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| WebhookError::Client(e.to_string()))?;
        Ok(Self { client, settings })
    }

    /// The settings in force.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// POSTs `event`, retrying 5xx and network errors; returns the attempts made.
    pub async fn send(&self, event: &FeedbackEvent) -> Result<u32, WebhookError> {
        let payload = WebhookPayload::from(event);
        let url = || redact_url(&self.settings.endpoint);
        let policy = RetryPolicy {
            max_retries: Some(self.settings.max_retries),
            ..RetryPolicy::doubling(self.settings.backoff, MAX_BACKOFF)
        };
        let mut attempts = 0;
        let sent = retry(
            &policy,
            &TokioClock::new(),
            std::future::pending(),
            || {
                attempts += 1;
                self.attempt(&payload)
            },
            |failure, next| match failure {
                Failed::Retry(last) => {
                    if next.retry_in.is_some() {
                        tracing::debug!(attempt = next.attempts, error = %last, "webhook attempt failed, retrying");
                    }
                    true
                }
                Failed::Rejected(_) => false,
            },
        )
        .await;
        match sent {
            Ok(()) => Ok(attempts),
            Err(GaveUp {
                error: Failed::Rejected(status),
                ..
            }) => Err(WebhookError::Rejected { url: url(), status }),
            Err(GaveUp {
                error: Failed::Retry(last),
                attempts,
                ..
            }) => Err(WebhookError::Exhausted {
                url: url(),
                attempts,
                last,
            }),
        }
    }

    async fn attempt(&self, payload: &WebhookPayload<'_>) -> Result<(), Failed> {
        let sent = self
            .client
            .post(&self.settings.endpoint)
            .json(payload)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_server_error() => Err(Failed::Retry(format!(
                "status {}",
                response.status().as_u16()
            ))),
            Ok(response) if response.status().is_client_error() => {
                Err(Failed::Rejected(response.status().as_u16()))
            }
            Ok(_) => Ok(()),
            Err(e) => Err(Failed::Retry(error_chain(&e.without_url()))),
        }
    }
}

#[async_trait]
impl FeedbackPublisher for WebhookBroadcaster {
    async fn publish(&self, event: FeedbackEvent) -> Result<(), BoxError> {
        self.send(&event).await.map(|_| ()).map_err(|e| {
            tracing::warn!(error = %e, "feedback webhook failed");
            Box::new(e) as BoxError
        })
    }
}
