//! A bus-fed store (feature `service`): [`StoreService`] reads bars from
//! `{ns}.marketdata.bars` in the consumer group [`STORE_GROUP`], writes them through a
//! [`WriteCoordinator`](crate::coordinator::WriteCoordinator), and acknowledges each entry
//! only once its bar is written or dead-lettered; its feedback goes out on
//! `{ns}.telemetry.feedback`.
//!
//! ```no_run
//! # async fn embed() -> Result<(), Box<dyn std::error::Error>> {
//! use store::config::StoreSettings;
//! use store::service::StoreService;
//!
//! let settings = StoreSettings::from_env()?;
//! let sink = store::sink::open_sink("sqlite://bars.db", &Default::default()).await?;
//! let pulse = pulse::Pulse::from_config(pulse::PulseConfig::from_env()?).await?;
//! let service = StoreService::builder(settings, sink, pulse).start().await?;
//! // ... until the program is told to stop:
//! let report = service.stop_within(std::time::Duration::from_secs(30)).await;
//! assert_eq!(report.unwritten, 0, "what is not written stays pending on the bus");
//! # Ok(()) }
//! ```
//!
//! The pieces, one file each: `in_flight` holds the entries in hand, `reader` takes them off
//! the bus, `ack` acknowledges what each batch recorded and keeps the rest from being
//! reclaimed, `gate` and `admin` pause and resume reading, `backlog` watches the bars
//! stream, and [`StoreSide`] is the coordinator with its feedback publisher on the bus, fed
//! by the reader here, or by direct submits in one process (`mdp run`).

mod ack;
mod admin;
mod backlog;
mod gate;
mod in_flight;
mod reader;
mod side;
mod store_service;

pub use pulse::stream::STORE_GROUP;
pub use side::StoreSide;
pub use store_service::{
    DEFAULT_DEAD_LETTER_FILE, ServiceReport, StoreService, StoreServiceBuilder, unique_name,
};
