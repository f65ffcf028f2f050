//! Counts the feedback events a store emits, by level, for the summary.

use std::collections::BTreeMap;

use store::feedback::FeedbackBus;
use tokio::task::JoinHandle;

/// Subscribes to `bus` and counts events by level until the bus closes.
pub fn count_levels(bus: &FeedbackBus) -> JoinHandle<BTreeMap<String, u64>> {
    let mut subscription = bus.subscribe("summary");
    tokio::spawn(async move {
        let mut counts: BTreeMap<String, u64> = ["ok", "soft", "hard"]
            .into_iter()
            .map(|l| (l.to_owned(), 0))
            .collect();
        while let Some(event) = subscription.recv().await {
            *counts.entry(event.level.as_str().to_owned()).or_default() += 1;
        }
        counts
    })
}
