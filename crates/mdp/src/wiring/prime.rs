//! Every metric family from the start: the publish series of the streams a service writes,
//! and one reading of the bars backlog, before the first scrape.

use pulse::Pulse;
use pulse::stream::{BARS, STORE_GROUP};

/// Creates the publish series of `streams` at 0 and reads the bars backlog once (which
/// records `pulse_backlog`); a backlog that cannot be read yet is only logged.
pub async fn prime_metrics(pulse: &Pulse, streams: &[&str]) {
    let track = pulse.config().track.as_str();
    for name in streams {
        pulse
            .metrics()
            .publish_handles(pulse.stream(name).label(), track);
    }
    if let Err(error) = pulse.backlog(BARS, STORE_GROUP).await {
        tracing::warn!(%error, "cannot read the bars backlog yet");
    }
}
