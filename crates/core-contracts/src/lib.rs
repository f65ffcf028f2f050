//! Wire contracts of mdp: the DTOs every crate speaks, their schema ids and tracks, the
//! payload hash of the Pulse wire format, the two control traits, injected clocks
//! ([`TokioClock`] with feature `tokio`), the shared control laws ([`breaker`], [`retry`])
//! and typed reads of environment variables ([`env`](mod@env)).
//!
//! Data flow of the whole system (one arrow, one component):
//!
//! ```text
//! producer ──acquire──▶ RateCoordinator ──submit──▶ WriteCoordinator ─▶ BoundedQueue ─▶ worker ─▶ Sink
//!     ▲                                                                   │ depth
//!     │ RateController::apply                                             ▼
//! FeedbackHandler (aggregate, policy)                          watermark transition
//!     ▲                                                                   │ FeedbackEvent
//!     │                                                                   ▼
//! pulse consumer ◀── EventBus backend (inmem | redis) ◀── pulse publisher ◀── FeedbackBus
//! ```
//!
//! Every DTO that travels on the bus implements [`Contract`]: a constant schema id and its
//! shape on each [`Track`]. A decoded DTO is always valid: deserialization runs the same
//! rules as construction, and [`decode`] reports the field and the rule broken.

mod bar;
pub mod breaker;
mod clock;
mod command;
mod control;
mod decode;
pub mod env;
mod envelope;
mod error;
mod feedback;
mod hash;
mod health;
mod level;
pub mod pydantic_json;
mod rate;
pub mod retry;
pub mod schema;
#[cfg(feature = "tokio")]
mod tokio_clock;
mod topology;
mod track;
mod traits;
mod validate;

pub use bar::{Bar, BarKey};
pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{ControlCommand, ControlReply, TARGET_ALL};
pub use control::{AuditEnvelope, ControlAction, ControlResult, ControlStatus};
pub use decode::{decode, decode_value};
pub use envelope::{EventEnvelope, EventMeta, WireEvent};
pub use error::ContractError;
pub use feedback::{FeedbackEvent, LEAVING_HEADER, REASON_LEAVING};
pub use hash::{hash_matches, payload_hash, sha256_hex};
pub use health::{HealthComponent, HealthState, HealthStatus, Probe, ProbeType};
pub use level::BackpressureLevel;
pub use rate::RateAdjustment;
#[cfg(feature = "tokio")]
pub use tokio_clock::TokioClock;
pub use topology::{
    BarsView, ClusterId, ClusterTopology, NodeId, NodeRole, NodeStatus, PipelineView, Presence,
    Region, StoreView,
};
pub use track::{Contract, Track};
pub use traits::{BoxError, FeedbackPublisher, RateController};
