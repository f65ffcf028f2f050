//! What the orchestrator's tasks share: the topology, its history, the members' replies to
//! commands (for the one waiting for them) and the latest snapshot (for the page's event
//! streams).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use core_contracts::{ClusterTopology, ControlReply};
use tokio::sync::{broadcast, watch};

use super::history::History;
use super::topology::Topology;

/// Replies buffered for the waiting commands.
const REPLIES: usize = 1024;

/// The orchestrator's shared state.
#[derive(Debug)]
pub(crate) struct Shared {
    topology: Mutex<Topology>,
    history: Mutex<History>,
    /// Every member's reply, as it arrives.
    pub(crate) replies: broadcast::Sender<ControlReply>,
    snapshots: watch::Sender<Arc<ClusterTopology>>,
}

impl Shared {
    /// State over `topology`, keeping `history_window` seconds of samples; `now` stamps the
    /// first snapshot.
    pub(crate) fn new(mut topology: Topology, history_window: f64, now: f64) -> Self {
        let first = Arc::new(topology.snapshot(now));
        Self {
            topology: Mutex::new(topology),
            history: Mutex::new(History::new(history_window)),
            replies: broadcast::channel(REPLIES).0,
            snapshots: watch::channel(first).0,
        }
    }

    /// The topology, locked (never held across an await).
    pub(crate) fn topology(&self) -> MutexGuard<'_, Topology> {
        self.topology.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The history, locked (never held across an await).
    pub(crate) fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A snapshot at `now`.
    pub(crate) fn snapshot(&self, now: f64) -> ClusterTopology {
        self.topology().snapshot(now)
    }

    /// Takes a snapshot at `now`, records it and hands it to the event streams.
    pub(crate) fn refresh(&self, now: f64) {
        let snapshot = Arc::new(self.snapshot(now));
        self.history().record(&snapshot);
        self.snapshots.send_replace(snapshot);
    }

    /// The latest snapshot, and each new one.
    pub(crate) fn snapshots(&self) -> watch::Receiver<Arc<ClusterTopology>> {
        self.snapshots.subscribe()
    }
}
