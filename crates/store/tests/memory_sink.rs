//! The memory sink keeps the newest revision of each key, like the database sinks.

#[path = "support/bars.rs"]
mod bars;
#[path = "support/revisions.rs"]
mod revisions;

use store::sink::{MemorySink, Revision, Sink, SinkError};

#[tokio::test]
async fn keeps_the_newest_revision_whatever_order_writes_arrive_in() {
    let sink = MemorySink::new();
    revisions::write_all(&sink).await;
    let rows: Vec<(String, String, i64)> = sink
        .bars()
        .into_iter()
        .map(|bar| {
            let revision = sink.revision(&bar.key()).map_or(-1, Revision::get);
            (bar.symbol, bar.close.to_string(), revision)
        })
        .collect();
    revisions::check(&rows);
}

#[tokio::test]
async fn refuses_bars_and_revisions_of_different_lengths() {
    let sink = MemorySink::new();
    let err = sink
        .write(&bars::bars("AAPL", 2), &[Revision::new(1)])
        .await
        .expect_err("one revision for two bars");
    assert!(matches!(err, SinkError::Permanent(_)), "{err}");
    assert!(sink.is_empty());
}
