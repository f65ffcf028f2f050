//! `ClusterTopology`: what the orchestrator knows of every member of a running system.
//!
//! On v1 it has the shape of the Python original (`federation.status.ClusterTopology`):
//! a cluster id, a region and one `NodeStatus` per member. v2 adds, all optional: when it
//! was taken, the health of the whole system with its reason, a detailed view of every
//! store and pipeline, and the backlog of the bars stream.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{finite_non_negative, non_empty, validated_deserialize};
use crate::{BackpressureLevel, Contract, ContractError, HealthState, HealthStatus, Track};

/// The kind of a member.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    /// The control plane (`mdp orchestrator`).
    Orchestrator,
    /// A pipeline (`mdp pipeline`).
    Pipeline,
    /// A store (`mdp store`).
    Store,
}

impl NodeRole {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Orchestrator => "orchestrator",
            Self::Pipeline => "pipeline",
            Self::Store => "store",
        }
    }
}

/// A cluster's identifier (the bus namespace in mdp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterId {
    /// The id.
    #[schemars(length(min = 1))]
    pub value: String,
}

/// A member's identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NodeId {
    /// The id.
    #[schemars(length(min = 1))]
    pub value: String,
}

/// Where a cluster runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Region {
    /// Region name.
    pub name: String,
    /// Availability zone.
    #[serde(default)]
    pub zone: Option<String>,
}

/// One member as the Python original describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NodeStatus {
    /// The member's id.
    pub node_id: NodeId,
    /// Its kind.
    pub role: NodeRole,
    /// Its health.
    pub health: HealthState,
    /// Its software version.
    pub version: String,
    /// When it was last heard from, Unix epoch seconds.
    pub last_seen_ts: f64,
}

/// Whether a member is heard from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// Heard from within the staleness window.
    Live,
    /// Silent for longer than the staleness window.
    Stale,
    /// It said goodbye: it stopped gracefully.
    Left,
    /// Silent for longer than the gone window: it is taken as dead.
    Gone,
}

impl Presence {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Stale => "stale",
            Self::Left => "left",
            Self::Gone => "gone",
        }
    }
}

/// A store as the orchestrator sees it (v2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StoreView {
    /// The store's coordinator id.
    pub id: String,
    /// Whether it is heard from.
    pub presence: Presence,
    /// Its health.
    pub health: HealthState,
    /// Why it has that health, in words.
    pub reason: String,
    /// Its backpressure level.
    pub level: BackpressureLevel,
    /// Why it is at that level (`queue_high`, `circuit_open`, ...), when it says.
    #[serde(default)]
    pub level_reason: Option<String>,
    /// Items in its write queue.
    pub queue_size: u64,
    /// Capacity of its write queue.
    pub capacity: u64,
    /// `queue_size / capacity`.
    pub utilization: f64,
    /// The sink's circuit breaker: `closed`, `open` or `half_open`, when known.
    #[serde(default)]
    pub breaker: Option<String>,
    /// Whether an operator paused its intake.
    #[serde(default)]
    pub paused: bool,
    /// Bars written so far, when known.
    #[serde(default)]
    pub written: Option<u64>,
    /// Its software version, when known.
    #[serde(default)]
    pub version: Option<String>,
    /// When it was last heard from, Unix epoch seconds.
    pub last_seen_ts: f64,
}

/// A pipeline as the orchestrator sees it (v2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PipelineView {
    /// The pipeline's id.
    pub id: String,
    /// The provider whose rate it holds.
    pub provider: String,
    /// Whether it is heard from.
    pub presence: Presence,
    /// Its health.
    pub health: HealthState,
    /// Why it has that health, in words.
    pub reason: String,
    /// The level in force.
    pub level: BackpressureLevel,
    /// Fraction of the base rate in force, in [0, 1].
    pub scale: f64,
    /// Its base rate, bars per second, when known.
    #[serde(default)]
    pub base_rate: Option<f64>,
    /// Bars published so far.
    pub published: u64,
    /// Bars published per second, over its last two reports.
    pub bars_per_sec: f64,
    /// The backlog of the bars stream it sees.
    pub backlog: u64,
    /// Whether an operator paused it.
    #[serde(default)]
    pub paused: bool,
    /// Its software version, when known.
    #[serde(default)]
    pub version: Option<String>,
    /// When it was last heard from, Unix epoch seconds.
    pub last_seen_ts: f64,
}

/// The bars stream's state for the store group (v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BarsView {
    /// The stream, e.g. `mdp.marketdata.bars`.
    pub stream: String,
    /// The consumer group, `store`.
    pub group: String,
    /// Entries not yet delivered to the group.
    pub undelivered: u64,
    /// Entries delivered and not yet acknowledged.
    pub pending: u64,
}

/// A snapshot of every member of a running system.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ClusterTopology {
    /// The cluster (the bus namespace).
    pub cluster_id: ClusterId,
    /// Where it runs.
    pub region: Region,
    /// Every member known.
    #[serde(default)]
    pub nodes: Vec<NodeStatus>,
    /// When the snapshot was taken, Unix epoch seconds (v2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub ts: Option<f64>,
    /// The whole system's health, the worst of its members': one component per member
    /// (v2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HealthStatus>,
    /// Why the system has that health, in words (v2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every store known (v2 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stores: Vec<StoreView>,
    /// Every pipeline known (v2 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<PipelineView>,
    /// The bars stream's backlog for the store group (v2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bars: Option<BarsView>,
}

impl ClusterTopology {
    /// Checks every rule of the DTO.
    pub fn validate(&self) -> Result<(), ContractError> {
        non_empty("cluster_id.value", &self.cluster_id.value)?;
        for node in &self.nodes {
            non_empty("nodes.node_id.value", &node.node_id.value)?;
            finite_non_negative("nodes.last_seen_ts", node.last_seen_ts)?;
        }
        if let Some(ts) = self.ts {
            finite_non_negative("ts", ts)?;
        }
        Ok(())
    }
}

impl Contract for ClusterTopology {
    const SCHEMA_ID: &'static str = "telemetry.ClusterTopology";
    const PYTHON_SCHEMA_ID: Option<&'static str> = Some("federation.status.ClusterTopology");
    const V2_FIELDS: &'static [&'static str] =
        &["ts", "health", "reason", "stores", "pipelines", "bars"];

    fn for_track(&self, track: Track) -> Self {
        match track {
            Track::V1 => Self {
                cluster_id: self.cluster_id.clone(),
                region: self.region.clone(),
                nodes: self.nodes.clone(),
                ts: None,
                health: None,
                reason: None,
                stores: Vec::new(),
                pipelines: Vec::new(),
                bars: None,
            },
            Track::V2 => self.clone(),
        }
    }
}

#[derive(Deserialize)]
struct Raw {
    cluster_id: ClusterId,
    region: Region,
    #[serde(default)]
    nodes: Vec<NodeStatus>,
    #[serde(default)]
    ts: Option<f64>,
    #[serde(default)]
    health: Option<HealthStatus>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    stores: Vec<StoreView>,
    #[serde(default)]
    pipelines: Vec<PipelineView>,
    #[serde(default)]
    bars: Option<BarsView>,
}

impl TryFrom<Raw> for ClusterTopology {
    type Error = ContractError;

    fn try_from(raw: Raw) -> Result<Self, Self::Error> {
        let topology = Self {
            cluster_id: raw.cluster_id,
            region: raw.region,
            nodes: raw.nodes,
            ts: raw.ts,
            health: raw.health,
            reason: raw.reason,
            stores: raw.stores,
            pipelines: raw.pipelines,
            bars: raw.bars,
        };
        topology.validate()?;
        Ok(topology)
    }
}

validated_deserialize!(ClusterTopology, Raw);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_python_originals_shape() {
        // federation.status.ClusterTopology(...).model_dump_json() of market-data-core 1.4.61
        let python = r#"{"cluster_id":{"value":"prod"},"region":{"name":"us-east-1","zone":null},
            "nodes":[{"node_id":{"value":"pipeline-01"},"role":"pipeline","health":"healthy",
            "version":"0.8.1","last_seen_ts":1729234567.5}]}"#;
        let topology: ClusterTopology = serde_json::from_str(python).expect("decodes");
        assert_eq!(topology.nodes[0].role, NodeRole::Pipeline);
        assert!(topology.stores.is_empty() && topology.ts.is_none());
        let bad = python.replace(r#""value":"prod""#, r#""value":" ""#);
        let error = serde_json::from_str::<ClusterTopology>(&bad).expect_err("empty id");
        assert!(error.to_string().contains("cluster_id"), "{error}");
    }
}
