//! A bus-fed pipeline: [`PipelineService`] publishes bars on `{ns}.marketdata.bars` at the
//! rate the stores' feedback on `{ns}.telemetry.feedback` allows (the levels of every live
//! store and the bars stream's backlog), and checkpoints what it published.
//!
//! ```no_run
//! # async fn embed() -> Result<(), Box<dyn std::error::Error>> {
//! use pipeline::PipelineSettings;
//! use pipeline::service::PipelineService;
//! use pipeline::source::SyntheticSource;
//!
//! let settings = PipelineSettings::from_env()?;
//! let pulse = pulse::Pulse::from_config(pulse::PulseConfig::from_env()?).await?;
//! let service = PipelineService::builder(settings, pulse)
//!     .checkpoint("pipeline.checkpoint")
//!     .start()
//!     .await?;
//! let skip = usize::try_from(service.resume_after())?;
//! let bars = SyntheticSource::new("synthetic", vec!["AAPL".into()], "1m", 7)?.take(1000);
//! service.publish(bars.skip(skip).map(Ok)).await?;
//! service.stop(std::time::Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```
//!
//! The pieces, one file each: [`PipelineSide`] is the rate coordinator with the feedback
//! handler and consumer on the bus, feeding the publisher here or a store in the same
//! process (`mdp run`), `recorder` remembers the scales in
//! force, `publisher` publishes and checkpoints each batch, `backlog` reads the bars
//! stream's backlog as pressure.

mod backlog;
mod checkpoint;
mod control;
mod error;
mod pipeline_service;
mod publisher;
mod recorder;
mod side;

pub use checkpoint::CheckpointError;
pub use control::PIPELINE_COMPONENT;
pub use error::ServiceError;
pub use pipeline_service::{PipelineService, PipelineServiceBuilder};
pub use publisher::seal_bars;
pub use recorder::ScaleRecorder;
pub use side::PipelineSide;
