//! Bars on the bus as a pipeline publishes them, and the store group's backlog.

#![allow(dead_code)]

use core_contracts::Bar;
use pulse::Pulse;
use pulse::stream::{BARS, STORE_GROUP};

/// Publishes `bars` on the bars stream, each keyed by its bar key, 500 to a batch.
pub(crate) async fn publish(pulse: &Pulse, bars: &[Bar]) {
    let events: Vec<_> = bars
        .iter()
        .map(|bar| {
            let key = bar.key().bus_key();
            pulse.seal(bar, Some(&key)).expect("sealed")
        })
        .collect();
    for chunk in events.chunks(500) {
        pulse.publish_batch(BARS, chunk).await.expect("published");
    }
}

/// Entries delivered to the store group and not acknowledged.
pub(crate) async fn pending(pulse: &Pulse) -> u64 {
    backlog(pulse).await.pending
}

/// Entries the store group has not acknowledged, delivered or not.
pub(crate) async fn unsettled(pulse: &Pulse) -> u64 {
    backlog(pulse).await.total()
}

/// The store group's backlog on the bars stream.
pub(crate) async fn backlog(pulse: &Pulse) -> pulse::backend::Backlog {
    pulse.backlog(BARS, STORE_GROUP).await.expect("the backlog")
}
