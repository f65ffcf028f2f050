//! A pipeline embedded in a program: publishes synthetic bars (`MDP_SOURCE_SEED`,
//! `MDP_SOURCE_SYMBOLS`, `MDP_SOURCE_RESOLUTION`) on `{ns}.marketdata.bars` of the bus that
//! `EVENT_BUS_BACKEND` and `REDIS_URL` name, at the rate the stores' feedback allows, and
//! keeps a checkpoint so that a restart resumes after what it published.
//!
//! ```text
//! EVENT_BUS_BACKEND=redis REDIS_URL=redis://127.0.0.1:6379/0 \
//!     cargo run -p pipeline --example embed_pipeline -- [bars] [checkpoint-file]
//! ```
//!
//! It publishes `bars` bars of the source (default 1000), or stops at Ctrl-C, and prints
//! `published <n>` (earlier runs included).

use std::time::Duration;

use pipeline::PipelineSettings;
use pipeline::config::SourceKind;
use pipeline::service::PipelineService;
use pipeline::source::SyntheticSource;
use pulse::{Pulse, PulseConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(Ok(1000), |n| n.parse())?;
    let checkpoint = args.next();

    let settings = PipelineSettings::from_env()?;
    let SourceKind::Synthetic {
        seed,
        symbols,
        resolution,
    } = settings.source.kind.clone()
    else {
        return Err("this example publishes the synthetic source: unset MDP_SOURCE".into());
    };
    let provider = settings.feedback.provider_name.clone();
    let pulse = Pulse::from_config(PulseConfig::from_env()?).await?;
    let mut service = PipelineService::builder(settings, pulse);
    if let Some(path) = checkpoint {
        service = service.checkpoint(path);
    }
    let service = service.start().await?;

    let skip = usize::try_from(service.resume_after())?;
    let bars = SyntheticSource::new(provider, symbols, resolution, seed)?
        .take(total)
        .skip(skip)
        .map(Ok);
    tokio::select! {
        published = service.publish(bars) => { published?; }
        _ = tokio::signal::ctrl_c() => {}
    }
    let published = service.stop(Duration::from_secs(5)).await;
    println!("published {published}");
    Ok(())
}
