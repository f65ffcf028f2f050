//! `FaultSwitchSink`: while a named file exists, every write fails with a transient error.
//! Operators use it for outage drills (breaker, HARD feedback, pause, recovery) without
//! touching the database; the end-to-end tests use it the same way.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use core_contracts::Bar;
use store::sink::{Revision, Sink, SinkError};

/// The environment variable naming the fault file.
pub const FAULT_FILE_VAR: &str = "MDP_SINK_FAULT_FILE";

/// A sink that refuses writes while `path` exists.
pub struct FaultSwitchSink {
    inner: Arc<dyn Sink>,
    path: PathBuf,
}

impl std::fmt::Debug for FaultSwitchSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultSwitchSink")
            .field("sink", &self.inner.name())
            .field("path", &self.path)
            .finish()
    }
}

impl FaultSwitchSink {
    /// `inner`, failing while `path` exists.
    pub fn new(inner: Arc<dyn Sink>, path: PathBuf) -> Self {
        Self { inner, path }
    }

    fn tripped(&self) -> bool {
        self.path.exists()
    }
}

#[async_trait]
impl Sink for FaultSwitchSink {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn write(&self, batch: &[Bar], revisions: &[Revision]) -> Result<(), SinkError> {
        if self.tripped() {
            return Err(SinkError::Transient(format!(
                "simulated outage: {} exists",
                self.path.display()
            )));
        }
        self.inner.write(batch, revisions).await
    }

    async fn flush(&self) -> Result<(), SinkError> {
        self.inner.flush().await
    }

    async fn close(&self) -> Result<(), SinkError> {
        self.inner.close().await
    }

    async fn ready(&self) -> bool {
        !self.tripped() && self.inner.ready().await
    }
}
