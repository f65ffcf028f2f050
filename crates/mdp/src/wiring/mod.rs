//! Assembly of the two sides from settings and flags, shared by `run` and the services:
//! the Pulse bus, the store side (coordinator, feedback publisher, heartbeat) and the
//! pipeline side (rate coordinator, feedback handler and consumer).

mod bus;
mod pipeline_side;
mod store_side;

pub use bus::open_pulse;
pub use pipeline_side::{PipelineSide, ScaleRecorder};
pub use store_side::{OnOutcome, StoreParts, StoreSide};
