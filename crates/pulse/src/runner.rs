//! [`ConsumerRunner`]: drives a [`Handler`] over a subscription. Acks after success, fails
//! (redelivery, then the dead-letter stream) on error, suppresses duplicates with an
//! idempotency LRU marked after success, keeps entries in hand from being reclaimed,
//! restarts after bus errors with backoff, and on shutdown finishes the message in hand.
//!
//! It takes a whole read at a time ([`Subscription::try_next_batch`]) and, while the handler
//! runs, keeps alive both the message in hand and the rest of the read still waiting its
//! turn, so nothing pending with this consumer can be reclaimed by another. Entries of a
//! read left unhandled at shutdown stay pending with the consumer (its next run, or another
//! consumer after the idle timeout, picks them up).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use core_contracts::retry::{Backoff, RetryPolicy, wait_unless};
use core_contracts::{BoxError, Clock, Contract, EventEnvelope, TokioClock};
use tokio_util::sync::CancellationToken;

use crate::backend::FailOutcome;
use crate::{BusError, Delivery, Idempotency, Pulse, Subscription};

/// Handles one event; an error sends it back for redelivery.
#[async_trait]
pub trait Handler<T>: Send + Sync + 'static {
    /// Processes `event`. Must be safe to run again for the same event (at-least-once).
    async fn handle(&self, event: &EventEnvelope<T>) -> Result<(), BoxError>;
}

/// What a runner did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunnerReport {
    /// Events handled successfully.
    pub handled: u64,
    /// Handler errors.
    pub failed: u64,
    /// Duplicates suppressed.
    pub duplicates: u64,
    /// Events dead-lettered after `max_deliveries` handler errors.
    pub dead_lettered: u64,
    /// Restarts after bus errors.
    pub restarts: u64,
}

/// Runs a handler for one consumer of one group.
pub struct ConsumerRunner<T, H> {
    pulse: Pulse,
    stream: String,
    group: String,
    consumer: String,
    handler: Arc<H>,
    seen: Arc<Idempotency>,
    reconnect: RetryPolicy,
    _payload: std::marker::PhantomData<fn() -> T>,
}

impl<T, H> std::fmt::Debug for ConsumerRunner<T, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerRunner")
            .field("pulse", &self.pulse)
            .field("stream", &self.stream)
            .field("group", &self.group)
            .field("consumer", &self.consumer)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

impl<T: Contract, H: Handler<T>> ConsumerRunner<T, H> {
    /// A runner for `consumer` in `group` on stream `name`.
    pub fn new(pulse: Pulse, name: &str, group: &str, consumer: &str, handler: Arc<H>) -> Self {
        let seen = Arc::new(Idempotency::new(pulse.config().idempotency_capacity));
        Self {
            pulse,
            stream: name.to_owned(),
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            handler,
            seen,
            reconnect: RetryPolicy::doubling(Duration::from_millis(100), Duration::from_secs(5)),
            _payload: std::marker::PhantomData,
        }
    }

    /// Shares an idempotency set (e.g. across restarts of the runner).
    pub fn with_idempotency(mut self, seen: Arc<Idempotency>) -> Self {
        self.seen = seen;
        self
    }

    /// Runs until `shutdown` is cancelled. Bus errors are logged and the subscription is
    /// re-opened after a backoff (100 ms doubling to 5 s).
    pub async fn run(self, shutdown: CancellationToken) -> RunnerReport {
        let mut report = RunnerReport::default();
        let clock = TokioClock::new();
        let mut backoff = Backoff::new(self.reconnect);
        while !shutdown.is_cancelled() {
            let error = match self
                .pulse
                .subscribe::<T>(&self.stream, &self.group, &self.consumer)
                .await
            {
                Ok(mut sub) => match self
                    .consume(&mut sub, &shutdown, &mut report, &mut backoff)
                    .await
                {
                    Ok(()) => return report,
                    Err(e) => e,
                },
                Err(e) => e,
            };
            report.restarts += 1;
            let wait = backoff
                .fail(clock.elapsed(), rand::random())
                .unwrap_or(self.reconnect.max_backoff);
            tracing::warn!(stream = self.stream, consumer = self.consumer, error = %error, retry_in_ms = wait.as_millis(), "consumer restarting after bus error");
            if !wait_unless(wait, shutdown.cancelled()).await {
                break;
            }
        }
        report
    }

    async fn consume(
        &self,
        sub: &mut Subscription<T>,
        shutdown: &CancellationToken,
        report: &mut RunnerReport,
        backoff: &mut Backoff,
    ) -> Result<(), BusError> {
        loop {
            let batch = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    sub.flush_acks().await?;
                    return Ok(());
                }
                batch = sub.try_next_batch() => batch?,
            };
            if batch.is_empty() {
                continue;
            }
            backoff.succeed();
            let mut held: Vec<String> = batch.iter().map(|d| d.id().to_owned()).collect();
            for delivery in batch {
                if shutdown.is_cancelled() {
                    break;
                }
                self.process(sub, &held, delivery, report).await?;
                held.remove(0);
            }
        }
    }

    /// Handles `delivery`, keeping every entry of `held` (it and the rest of its read) alive
    /// meanwhile.
    async fn process(
        &self,
        sub: &mut Subscription<T>,
        held: &[String],
        delivery: Delivery<T>,
        report: &mut RunnerReport,
    ) -> Result<(), BusError> {
        let counters = sub.counters().clone();
        if self.seen.seen(delivery.id()) {
            sub.ack(&delivery).await?;
            report.duplicates += 1;
            counters.duplicate.inc();
            return Ok(());
        }
        let result = self.handle_in_hand(sub, held, &delivery).await?;
        match result {
            Ok(()) => {
                self.seen.mark(delivery.id());
                sub.ack(&delivery).await?;
                report.handled += 1;
                counters.success.inc();
            }
            Err(error) => {
                report.failed += 1;
                counters.error.inc();
                let outcome = sub.fail(&delivery, &error.to_string()).await?;
                tracing::warn!(stream = sub.stream().full(), id = delivery.id(), %error, outcome = outcome.as_str(), "handler failed");
                if matches!(outcome, FailOutcome::DeadLettered { .. }) {
                    report.dead_lettered += 1;
                }
            }
        }
        Ok(())
    }

    /// Runs the handler while refreshing the idle time of the entries `held`, so that no
    /// other consumer reclaims a message still being handled or waiting its turn.
    async fn handle_in_hand(
        &self,
        sub: &Subscription<T>,
        held: &[String],
        delivery: &Delivery<T>,
    ) -> Result<Result<(), BoxError>, BusError> {
        let every = (self.pulse.config().idle_timeout / 3).max(Duration::from_millis(1));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let handling = self.handler.handle(&delivery.envelope);
        tokio::pin!(handling);
        loop {
            tokio::select! {
                result = &mut handling => return Ok(result),
                _ = ticker.tick() => {
                    if let Err(e) = sub.touch(held).await {
                        tracing::warn!(error = %e, "could not refresh the idle time of an entry in hand");
                    }
                }
            }
        }
    }
}
