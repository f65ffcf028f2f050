//! Retrying with exponential backoff: the pure [`RetryPolicy`] (how long to wait after the
//! n-th failure, when to give up), the [`Backoff`] schedule of one run of failures, and (feature
//! `tokio`) [`retry()`], the one async loop that drives them on tokio's timer, and
//! [`wait_unless`], its wait.
//!
//! Every retrying loop of the workspace uses these: sink writes, dead-letter appends,
//! reconnecting consumers, bar publishes, acks, the feedback webhook.

mod backoff;
mod policy;
#[cfg(feature = "tokio")]
mod run;

pub use backoff::Backoff;
pub use policy::RetryPolicy;
#[cfg(feature = "tokio")]
pub use run::{Failure, GaveUp, GiveUpReason, retry, wait_unless};
