//! The bounded write queue of SPEC §4.1: watermarks with a pure signal state machine, three
//! overflow strategies, and signals handed out after the lock is released.

mod bounded;
mod builder;
mod error;
mod overflow;
mod sequence;
mod watermark;

pub use bounded::{BoundedQueue, QueueSignal};
pub use builder::QueueBuilder;
pub use error::PutError;
pub use overflow::OverflowStrategy;
pub use sequence::Sequence;
pub use watermark::{
    REASON_HIGH_WATERMARK, REASON_QUEUE_RECOVERED, REASON_SOFT_WATERMARK, Signal, SignalState,
    WatermarkError, Watermarks, transition,
};
