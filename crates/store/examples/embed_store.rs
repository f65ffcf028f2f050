//! A store embedded in a program: bars from `{ns}.marketdata.bars` on the bus that
//! `EVENT_BUS_BACKEND` and `REDIS_URL` name, written to `DATABASE_URL` (default
//! `sqlite://mdp.db`), each entry acknowledged once its bar is written. Runs until Ctrl-C or
//! SIGTERM, then drains: what it holds is written, or left pending for the next store.
//!
//! ```text
//! EVENT_BUS_BACKEND=redis REDIS_URL=redis://127.0.0.1:6379/0 \
//!     cargo run -p store --example embed_store -- [consumer-name]
//! ```
//!
//! It prints `started <consumer>` once reading, and at the end one line of counts; it exits
//! with status 3 when bars were left unwritten.

use std::time::Duration;

use pulse::{Pulse, PulseConfig};
use store::config::StoreSettings;
use store::service::StoreService;
use store::sink::{SinkOptions, open_database};
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let settings = StoreSettings::from_env()?;
    let options = SinkOptions {
        postgres: settings.sink.postgres.clone(),
        sqlite_synchronous: settings.sink.sqlite_synchronous,
        metrics: None,
    };
    let sink = open_database(&settings.sink.database_url, &options).await?;
    let pulse = Pulse::from_config(PulseConfig::from_env()?).await?;
    let mut service = StoreService::builder(settings, sink, pulse);
    if let Some(consumer) = std::env::args().nth(1) {
        service = service.consumer(consumer);
    }
    let mut term = signal(SignalKind::terminate())?;
    let service = service.start().await?;
    println!("started {}", service.consumer());
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    let report = service.stop_within(Duration::from_secs(30)).await;
    println!(
        "stopped taken={} redelivered={} acked={} dead_lettered={} unwritten={}",
        report.taken, report.redelivered, report.acked, report.dead_lettered, report.unwritten
    );
    if report.unwritten > 0 {
        std::process::exit(3);
    }
    Ok(())
}
