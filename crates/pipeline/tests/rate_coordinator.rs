//! Behaviour of the rate coordinator on tokio's paused clock.

use std::sync::Arc;
use std::time::Duration;

use core_contracts::BackpressureLevel;
use core_contracts::breaker::BreakerState;
use pipeline::rate::{ProviderConfig, RateCoordinator, RateError};
use tokio::task::JoinHandle;
use tokio::time::{Instant, advance, timeout};

fn coordinator(capacity: u32, rate: f64) -> Arc<RateCoordinator> {
    let rates = RateCoordinator::new();
    rates
        .register_provider("p", ProviderConfig::new(capacity, rate))
        .expect("valid provider");
    Arc::new(rates)
}

async fn drain(rates: &RateCoordinator, capacity: u32) {
    rates.acquire("p", capacity).await.expect("initial burst");
}

/// A task acquiring `n` tokens of `p`.
fn waiter(rates: &Arc<RateCoordinator>, n: u32) -> JoinHandle<Result<(), RateError>> {
    let rates = Arc::clone(rates);
    tokio::spawn(async move { rates.acquire("p", n).await })
}

/// Lets every spawned task run until it parks.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

#[tokio::test(start_paused = true)]
async fn grants_the_initial_burst_at_once_then_waits_for_the_refill() {
    let rates = coordinator(60, 60.0);
    let start = Instant::now();
    rates.acquire("p", 60).await.expect("burst");
    assert_eq!(start.elapsed(), Duration::ZERO);
    rates.acquire("p", 30).await.expect("30 tokens");
    assert_eq!(start.elapsed(), ms(500));
    rates.acquire("p", 60).await.expect("60 tokens");
    assert_eq!(start.elapsed(), ms(1500));
}

#[tokio::test(start_paused = true)]
async fn the_wait_for_n_tokens_is_n_over_the_rate() {
    for (rate, n, expected) in [
        (10.0, 5, ms(500)),
        (4.0, 10, ms(2500)),
        (100.0, 50, ms(500)),
    ] {
        let rates = coordinator(50, rate);
        drain(&rates, 50).await;
        let start = Instant::now();
        rates.acquire("p", n).await.expect("tokens");
        assert_eq!(start.elapsed(), expected, "rate {rate} n {n}");
    }
}

#[tokio::test(start_paused = true)]
async fn the_bucket_refills_up_to_capacity_and_no_further() {
    let rates = coordinator(10, 5.0);
    drain(&rates, 10).await;
    advance(Duration::from_secs(1)).await;
    let tokens = rates.get_provider_state("p").expect("state").tokens;
    assert!((tokens - 5.0).abs() < 1e-6, "{tokens}");
    advance(Duration::from_secs(60)).await;
    let tokens = rates.get_provider_state("p").expect("state").tokens;
    assert!((tokens - 10.0).abs() < 1e-6, "{tokens}");
}

#[tokio::test(start_paused = true)]
async fn scale_zero_grants_nothing_until_the_scale_rises() {
    let rates = coordinator(60, 60.0);
    assert_eq!(rates.set_budget_scale("p", 0.0), Ok(0.0));
    assert_eq!(rates.get_provider_state("p").expect("state").tokens, 0.0);
    let mut waiter = waiter(&rates, 1);
    // An hour of paused time passes without a grant.
    let still_waiting = timeout(Duration::from_secs(3600), &mut waiter).await;
    assert!(still_waiting.is_err(), "a token was granted at scale 0");
    assert_eq!(rates.get_provider_state("p").expect("state").waiters, 1);

    let resumed = Instant::now();
    rates.set_budget_scale("p", 1.0).expect("scale");
    waiter.await.expect("task").expect("granted");
    // One token at 60/s, earned from the moment the scale rose (rounded up to the timer's ms).
    assert_eq!(resumed.elapsed(), ms(17));
}

#[tokio::test(start_paused = true)]
async fn lowering_the_scale_while_a_caller_waits_slows_its_grant() {
    let rates = coordinator(60, 60.0);
    drain(&rates, 60).await;
    let start = Instant::now();
    let waiter = waiter(&rates, 60);
    advance(ms(500)).await; // 30 tokens earned
    rates.set_budget_scale("p", 0.5).expect("scale");
    waiter.await.expect("task").expect("granted");
    // The remaining 30 tokens at 30/s.
    assert_eq!(start.elapsed(), ms(1500));
}

#[tokio::test(start_paused = true)]
async fn raising_the_base_rate_while_a_caller_waits_speeds_its_grant() {
    let rates = coordinator(60, 60.0);
    drain(&rates, 60).await;
    let start = Instant::now();
    let waiter = waiter(&rates, 60);
    advance(ms(500)).await; // 30 tokens earned at 60/s
    rates.set_base_rate("p", 120.0).expect("rate");
    waiter.await.expect("task").expect("granted");
    // The remaining 30 tokens at 120/s.
    assert_eq!(start.elapsed(), ms(750));
    let state = rates.get_provider_state("p").expect("state");
    assert!((state.base_rate - 120.0).abs() < 1e-9, "{state:?}");
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                rates.set_base_rate("p", bad),
                Err(RateError::InvalidRate { .. })
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        rates.set_base_rate("nope", 1.0),
        Err(RateError::UnknownProvider(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn waiters_are_served_in_arrival_order() {
    let rates = coordinator(10, 10.0);
    drain(&rates, 10).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Large and small requests alternate: a small one never overtakes a large one ahead.
    for (i, n) in [10_u32, 1, 10, 1, 5, 1, 10, 2].into_iter().enumerate() {
        let task_rates = Arc::clone(&rates);
        let tx = tx.clone();
        tokio::spawn(async move {
            task_rates.acquire("p", n).await.expect("granted");
            tx.send(i).expect("receiver alive");
        });
        settle().await;
        assert_eq!(rates.get_provider_state("p").expect("state").waiters, i + 1);
    }
    drop(tx);
    let mut order = Vec::new();
    while let Some(i) = rx.recv().await {
        order.push(i);
    }
    assert_eq!(order, (0..8).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_waiter_gives_up_its_place() {
    let rates = coordinator(60, 60.0);
    drain(&rates, 60).await;
    let big = waiter(&rates, 60);
    settle().await;
    let start = Instant::now();
    let small = waiter(&rates, 6);
    settle().await;
    big.abort();
    small.await.expect("task").expect("granted");
    assert_eq!(start.elapsed(), ms(100));
    assert_eq!(rates.get_provider_state("p").expect("state").waiters, 0);
}

#[tokio::test(start_paused = true)]
async fn unknown_providers_and_oversized_requests_are_clear_errors() {
    let rates = coordinator(60, 60.0);
    assert_eq!(
        rates.acquire("nope", 1).await,
        Err(RateError::UnknownProvider("nope".into()))
    );
    let err = rates.acquire("p", 61).await.expect_err("above capacity");
    assert_eq!(
        err,
        RateError::ExceedsCapacity {
            provider: "p".into(),
            requested: 61,
            capacity: 60
        }
    );
    assert!(err.to_string().contains("at most 60"), "{err}");
    assert!(rates.set_budget_scale("nope", 1.0).is_err());
    assert!(rates.set_budget_scale("p", f64::NAN).is_err());
    assert!(
        rates
            .register_provider("p", ProviderConfig::default())
            .is_err()
    );
    assert!(
        rates
            .register_provider("q", ProviderConfig::new(0, 1.0))
            .is_err()
    );
    assert!(
        rates
            .register_provider("q", ProviderConfig::new(1, 0.0))
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn scale_is_clamped_and_reported() {
    let rates = coordinator(60, 60.0);
    assert_eq!(rates.set_budget_scale("p", 3.0), Ok(1.0));
    assert_eq!(rates.set_budget_scale("p", -1.0), Ok(0.0));
    assert_eq!(rates.set_budget_scale("p", 0.25), Ok(0.25));
    rates
        .set_global_pressure("p", BackpressureLevel::Soft)
        .expect("pressure");
    let state = rates.get_provider_state("p").expect("state");
    assert_eq!(state.scale, 0.25);
    assert_eq!(state.effective_rate, 15.0);
    assert_eq!(state.pressure, BackpressureLevel::Soft);
}

#[tokio::test(start_paused = true)]
async fn a_cooldown_returns_at_once_and_delays_the_next_grant() {
    let rates = coordinator(60, 60.0);
    let start = Instant::now();
    rates
        .cooldown("p", Duration::from_secs(2))
        .expect("cooldown");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(
        rates
            .get_provider_state("p")
            .expect("state")
            .cooldown_remaining,
        Some(Duration::from_secs(2))
    );
    rates.acquire("p", 1).await.expect("granted");
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    assert_eq!(
        rates
            .get_provider_state("p")
            .expect("state")
            .cooldown_remaining,
        None
    );
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_after_repeated_failures_and_probes_later() {
    let rates = RateCoordinator::new();
    let config = ProviderConfig {
        breaker_threshold: 3,
        breaker_open_for: Duration::from_secs(30),
        ..ProviderConfig::default()
    };
    rates.register_provider("p", config).expect("provider");
    for _ in 0..3 {
        rates.record_failure("p").expect("known provider");
    }
    assert_eq!(
        rates.get_provider_state("p").expect("state").breaker,
        BreakerState::Open {
            until: Duration::from_secs(30)
        }
    );
    assert!(matches!(
        rates.acquire("p", 1).await,
        Err(RateError::CircuitOpen { retry_after, .. }) if retry_after == Duration::from_secs(30)
    ));
    advance(Duration::from_secs(30)).await;
    rates.acquire("p", 1).await.expect("the probe passes");
    assert!(rates.acquire("p", 1).await.is_err(), "one probe at a time");
    rates.record_success("p").expect("known provider");
    rates.acquire("p", 1).await.expect("closed again");
    assert_eq!(
        rates.get_provider_state("p").expect("state").breaker,
        BreakerState::Closed { failures: 0 }
    );
}

#[tokio::test(start_paused = true)]
async fn eight_contending_tasks_share_the_rate() {
    let rates = coordinator(10, 100.0);
    drain(&rates, 10).await;
    let start = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let rates = Arc::clone(&rates);
            tokio::spawn(async move {
                for _ in 0..25 {
                    rates.acquire("p", 1).await.expect("granted");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    // 200 tokens at 100/s; each grant waits for its own token (timer rounding adds < 1 ms
    // per grant).
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(elapsed <= ms(2200), "{elapsed:?}");
}
