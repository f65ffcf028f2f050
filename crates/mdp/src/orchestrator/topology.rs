//! What the orchestrator knows of every member (pure, time injected as Unix seconds): it
//! is told each feedback event, status report, rate adjustment and backlog reading as they
//! arrive, and [`Topology::snapshot`] turns that into a [`ClusterTopology`] with every
//! member's presence and health and the system's.

use std::collections::BTreeMap;

use core_contracts::{
    BackpressureLevel, BarsView, ClusterId, ClusterTopology, FeedbackEvent, HealthComponent,
    HealthState, HealthStatus, NodeId, NodeRole, NodeStatus, PipelineView, Presence,
    RateAdjustment, Region, StoreView,
};
use pipeline::service::PIPELINE_COMPONENT;
use store::coordinator::REASON_HEARTBEAT;

use super::health::{
    PipelineFacts, StoreFacts, Windows, pipeline_health, state_name, store_health, system_health,
};

/// A store as last heard of.
#[derive(Debug, Clone, Default)]
struct Store {
    heard: f64,
    left: bool,
    level: Option<BackpressureLevel>,
    level_reason: Option<String>,
    queue_size: u64,
    capacity: u64,
    breaker: Option<String>,
    paused: bool,
    written: Option<u64>,
    version: Option<String>,
    reported: Option<HealthState>,
}

/// A pipeline as last heard of.
#[derive(Debug, Clone, Default)]
struct Pipeline {
    heard: f64,
    left: bool,
    provider: String,
    level: Option<BackpressureLevel>,
    scale: f64,
    base_rate: Option<f64>,
    published: u64,
    /// The published count and time of the report before, for the rate.
    before: Option<(f64, u64)>,
    bars_per_sec: f64,
    backlog: u64,
    paused: bool,
    cause: Option<String>,
    version: Option<String>,
}

/// Every member known, by id.
#[derive(Debug, Clone)]
pub(crate) struct Topology {
    cluster: String,
    windows: Windows,
    version: String,
    stores: BTreeMap<String, Store>,
    pipelines: BTreeMap<String, Pipeline>,
    bars: Option<BarsView>,
}

impl Topology {
    /// An empty topology of the cluster `cluster` (the bus namespace), reporting `version`
    /// as its own.
    pub(crate) fn new(cluster: &str, windows: Windows, version: &str) -> Self {
        Self {
            cluster: cluster.to_owned(),
            windows,
            version: version.to_owned(),
            stores: BTreeMap::new(),
            pipelines: BTreeMap::new(),
            bars: None,
        }
    }

    /// A store's feedback event, heard at `heard` (a goodbye when `leaving`).
    pub(crate) fn feedback(&mut self, event: &FeedbackEvent, leaving: bool, heard: f64) {
        let store = self.stores.entry(event.coordinator_id.clone()).or_default();
        if heard < store.heard {
            return;
        }
        store.heard = heard;
        store.left = leaving;
        store.level = Some(event.level);
        store.queue_size = event.queue_size;
        store.capacity = event.capacity;
        // a heartbeat (reason `heartbeat`) repeats the level: the reason it went there stays;
        // at ok none is shown
        match event.reason.as_deref() {
            _ if event.level == BackpressureLevel::Ok => store.level_reason = None,
            None | Some(REASON_HEARTBEAT) => {}
            Some(reason) => store.level_reason = Some(reason.to_owned()),
        }
    }

    /// A member's status report (`HealthStatus` keyed `id`), heard at `heard`; its last
    /// one when `leaving`.
    pub(crate) fn status(&mut self, id: &str, status: &HealthStatus, leaving: bool, heard: f64) {
        match status.service.as_str() {
            "store" => self.store_status(id, status, leaving, heard),
            "pipeline" => self.pipeline_status(id, status, leaving, heard),
            other => tracing::debug!(member = id, service = other, "status of another kind"),
        }
    }

    fn store_status(&mut self, id: &str, status: &HealthStatus, leaving: bool, heard: f64) {
        let store = self.stores.entry(id.to_owned()).or_default();
        if heard < store.heard {
            return;
        }
        store.heard = heard;
        store.left = leaving;
        store.reported = Some(status.state);
        store.version = Some(status.version.clone());
        for component in &status.components {
            let detail = |key: &str| component.details.get(key).map(String::as_str);
            if component.name.starts_with("coordinator:") {
                if let Some(level) = detail("level").and_then(parse_level) {
                    store.level = Some(level);
                }
                store.queue_size = number(detail("queue_depth")).unwrap_or(store.queue_size);
                store.capacity = number(detail("capacity")).unwrap_or(store.capacity);
                store.written = number(detail("written")).or(store.written);
                store.breaker = detail("circuit").map(str::to_owned);
            } else if component.name == "bus-reader" {
                store.paused = detail("paused") == Some("true");
            }
        }
    }

    fn pipeline_status(&mut self, id: &str, status: &HealthStatus, leaving: bool, heard: f64) {
        let Some(component) = status
            .components
            .iter()
            .find(|c| c.name == PIPELINE_COMPONENT)
        else {
            return;
        };
        let detail = |key: &str| component.details.get(key).map(String::as_str);
        let pipeline = self.pipelines.entry(id.to_owned()).or_default();
        if heard < pipeline.heard {
            return;
        }
        let published = number(detail("published")).unwrap_or(pipeline.published);
        if let Some((then, count)) = pipeline.before
            && heard > then
        {
            pipeline.bars_per_sec = published.saturating_sub(count) as f64 / (heard - then);
        }
        pipeline.before = Some((heard, published));
        pipeline.heard = heard;
        pipeline.left = leaving;
        pipeline.published = published;
        pipeline.provider = detail("provider").unwrap_or_default().to_owned();
        pipeline.level = detail("level").and_then(parse_level).or(pipeline.level);
        pipeline.scale = detail("scale")
            .and_then(|s| s.parse().ok())
            .unwrap_or(pipeline.scale);
        pipeline.base_rate = detail("base_rate").and_then(|s| s.parse().ok());
        pipeline.backlog = number(detail("backlog")).unwrap_or(pipeline.backlog);
        pipeline.paused = detail("paused") == Some("true");
        pipeline.cause = detail("cause").map(str::to_owned);
        pipeline.version = Some(status.version.clone());
    }

    /// A rate adjustment pipeline `id` applied, heard at `heard`: its scale and level at
    /// once, between status reports.
    pub(crate) fn adjustment(&mut self, id: &str, adjustment: &RateAdjustment, heard: f64) {
        if let Some(pipeline) = self.pipelines.get_mut(id)
            && heard >= pipeline.heard
        {
            pipeline.heard = heard;
            pipeline.scale = adjustment.scale;
            pipeline.level = Some(adjustment.reason);
        }
    }

    /// The bars stream's backlog for the store group.
    pub(crate) fn bars(&mut self, bars: BarsView) {
        self.bars = Some(bars);
    }

    /// Whether `id` is a member known (and not forgotten), and of which kind.
    pub(crate) fn role_of(&self, id: &str) -> Option<NodeRole> {
        if self.stores.contains_key(id) {
            Some(NodeRole::Store)
        } else if self.pipelines.contains_key(id) {
            Some(NodeRole::Pipeline)
        } else {
            None
        }
    }

    /// The live members, with their kind.
    pub(crate) fn live(&self, now: f64) -> Vec<(NodeRole, String)> {
        let live =
            |heard: f64, left: bool| self.windows.presence(now - heard, left) == Presence::Live;
        self.stores
            .iter()
            .filter(|(_, s)| live(s.heard, s.left))
            .map(|(id, _)| (NodeRole::Store, id.clone()))
            .chain(
                self.pipelines
                    .iter()
                    .filter(|(_, p)| live(p.heard, p.left))
                    .map(|(id, _)| (NodeRole::Pipeline, id.clone())),
            )
            .collect()
    }

    /// The topology at `now`; members gone or left for longer than the forget window are
    /// dropped first.
    pub(crate) fn snapshot(&mut self, now: f64) -> ClusterTopology {
        let windows = self.windows;
        self.stores.retain(|_, s| !windows.forgotten(now - s.heard));
        self.pipelines
            .retain(|_, p| !windows.forgotten(now - p.heard));
        let stores: Vec<StoreView> = self
            .stores
            .iter()
            .map(|(id, store)| store_view(id, store, now, &windows))
            .collect();
        let pipelines: Vec<PipelineView> = self
            .pipelines
            .iter()
            .map(|(id, pipeline)| pipeline_view(id, pipeline, now, &windows))
            .collect();
        let mut nodes = Vec::new();
        let mut components = Vec::new();
        for s in &stores {
            nodes.push(node(
                &s.id,
                NodeRole::Store,
                s.health,
                &s.version,
                s.last_seen_ts,
            ));
            components.push(component("store", &s.id, s.health, s.presence, &s.reason));
        }
        for p in &pipelines {
            nodes.push(node(
                &p.id,
                NodeRole::Pipeline,
                p.health,
                &p.version,
                p.last_seen_ts,
            ));
            components.push(component(
                "pipeline", &p.id, p.health, p.presence, &p.reason,
            ));
        }
        let live_stores = stores
            .iter()
            .filter(|s| s.presence == Presence::Live)
            .count();
        let named: Vec<(String, HealthState, String)> = stores
            .iter()
            .map(|s| (format!("store {}", s.id), s.health, s.reason.clone()))
            .chain(
                pipelines
                    .iter()
                    .map(|p| (format!("pipeline {}", p.id), p.health, p.reason.clone())),
            )
            .collect();
        let (state, reason) = system_health(
            named.iter().map(|(n, s, r)| (n.as_str(), *s, r.as_str())),
            live_stores,
        );
        ClusterTopology {
            cluster_id: ClusterId {
                value: self.cluster.clone(),
            },
            region: Region {
                name: "local".to_owned(),
                zone: None,
            },
            nodes,
            ts: Some(now),
            health: Some(HealthStatus {
                service: self.cluster.clone(),
                state,
                components,
                version: self.version.clone(),
                ts: now,
            }),
            reason: Some(reason),
            stores,
            pipelines,
            bars: self.bars.clone(),
        }
    }
}

fn store_view(id: &str, store: &Store, now: f64, windows: &Windows) -> StoreView {
    let silent_for = (now - store.heard).max(0.0);
    let presence = windows.presence(silent_for, store.left);
    let level = store.level.unwrap_or(BackpressureLevel::Ok);
    let utilization = if store.capacity == 0 {
        0.0
    } else {
        store.queue_size as f64 / store.capacity as f64
    };
    let (health, reason) = store_health(
        &StoreFacts {
            presence,
            silent_for,
            level,
            level_reason: store.level_reason.as_deref(),
            utilization,
            breaker: store.breaker.as_deref(),
            paused: store.paused,
            reported: store.reported,
        },
        windows,
    );
    StoreView {
        id: id.to_owned(),
        presence,
        health,
        reason,
        level,
        level_reason: store.level_reason.clone(),
        queue_size: store.queue_size,
        capacity: store.capacity,
        utilization,
        breaker: store.breaker.clone(),
        paused: store.paused,
        written: store.written,
        version: store.version.clone(),
        last_seen_ts: store.heard,
    }
}

fn pipeline_view(id: &str, pipeline: &Pipeline, now: f64, windows: &Windows) -> PipelineView {
    let silent_for = (now - pipeline.heard).max(0.0);
    let presence = windows.presence(silent_for, pipeline.left);
    let level = pipeline.level.unwrap_or(BackpressureLevel::Ok);
    let (health, reason) = pipeline_health(
        &PipelineFacts {
            presence,
            silent_for,
            level,
            scale: pipeline.scale,
            paused: pipeline.paused,
            cause: pipeline.cause.as_deref(),
        },
        windows,
    );
    let live = presence == Presence::Live;
    PipelineView {
        id: id.to_owned(),
        provider: pipeline.provider.clone(),
        presence,
        health,
        reason,
        level,
        scale: pipeline.scale,
        base_rate: pipeline.base_rate,
        published: pipeline.published,
        bars_per_sec: if live { pipeline.bars_per_sec } else { 0.0 },
        backlog: pipeline.backlog,
        paused: pipeline.paused,
        version: pipeline.version.clone(),
        last_seen_ts: pipeline.heard,
    }
}

fn node(
    id: &str,
    role: NodeRole,
    health: HealthState,
    version: &Option<String>,
    last_seen_ts: f64,
) -> NodeStatus {
    NodeStatus {
        node_id: NodeId {
            value: id.to_owned(),
        },
        role,
        health,
        version: version.clone().unwrap_or_default(),
        last_seen_ts,
    }
}

fn component(
    kind: &str,
    id: &str,
    state: HealthState,
    presence: Presence,
    reason: &str,
) -> HealthComponent {
    HealthComponent {
        name: format!("{kind}:{id}"),
        state,
        details: BTreeMap::from([
            ("presence".to_owned(), presence.as_str().to_owned()),
            ("reason".to_owned(), reason.to_owned()),
            ("health".to_owned(), state_name(state).to_owned()),
        ]),
    }
}

fn number(text: Option<&str>) -> Option<u64> {
    text.and_then(|t| t.parse().ok())
}

fn parse_level(text: &str) -> Option<BackpressureLevel> {
    match text {
        "ok" => Some(BackpressureLevel::Ok),
        "soft" => Some(BackpressureLevel::Soft),
        "hard" => Some(BackpressureLevel::Hard),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BackpressureLevel::{Hard, Ok};
    use core_contracts::FeedbackEvent;

    const T0: f64 = 1_700_000_000.0;

    fn store_status(queue: u64, level: &str, paused: bool) -> HealthStatus {
        HealthStatus {
            service: "store".into(),
            state: HealthState::Healthy,
            components: vec![
                HealthComponent {
                    name: "coordinator:s".into(),
                    state: HealthState::Healthy,
                    details: BTreeMap::from(
                        [
                            ("queue_depth", queue.to_string()),
                            ("capacity", "100".to_owned()),
                            ("level", level.to_owned()),
                            ("circuit", "closed".to_owned()),
                            ("written", "42".to_owned()),
                        ]
                        .map(|(k, v)| (k.to_owned(), v)),
                    ),
                },
                HealthComponent {
                    name: "bus-reader".into(),
                    state: HealthState::Healthy,
                    details: BTreeMap::from([("paused".to_owned(), paused.to_string())]),
                },
            ],
            version: "9.9.9".into(),
            ts: T0,
        }
    }

    fn pipeline_status(published: u64, scale: f64) -> HealthStatus {
        HealthStatus {
            service: "pipeline".into(),
            state: HealthState::Healthy,
            components: vec![HealthComponent {
                name: PIPELINE_COMPONENT.into(),
                state: HealthState::Healthy,
                details: BTreeMap::from(
                    [
                        ("provider", "synthetic".to_owned()),
                        ("scale", scale.to_string()),
                        ("level", "ok".to_owned()),
                        ("published", published.to_string()),
                        ("backlog", "7".to_owned()),
                        ("paused", "false".to_owned()),
                        ("base_rate", "500".to_owned()),
                        ("cause", "store".to_owned()),
                    ]
                    .map(|(k, v)| (k.to_owned(), v)),
                ),
            }],
            version: "9.9.9".into(),
            ts: T0,
        }
    }

    fn four() -> Topology {
        let mut topology = Topology::new("mdp", Windows::default(), "1.0.0");
        topology.status("s-1", &store_status(10, "ok", false), false, T0);
        topology.status("s-2", &store_status(20, "ok", false), false, T0);
        topology.status("p-1", &pipeline_status(1000, 1.0), false, T0);
        topology.status("p-2", &pipeline_status(0, 1.0), false, T0);
        topology
    }

    #[test]
    fn lists_every_member_with_its_figures() {
        let mut topology = four();
        topology.status("p-1", &pipeline_status(1500, 1.0), false, T0 + 0.5);
        let snapshot = topology.snapshot(T0 + 1.0);
        assert_eq!(snapshot.nodes.len(), 4);
        let ids: Vec<&str> = snapshot.stores.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["s-1", "s-2"]);
        let s1 = &snapshot.stores[0];
        assert_eq!((s1.queue_size, s1.capacity, s1.utilization), (10, 100, 0.1));
        assert_eq!(
            (s1.written, s1.breaker.as_deref()),
            (Some(42), Some("closed"))
        );
        let p1 = &snapshot.pipelines[0];
        assert_eq!(
            (p1.published, p1.bars_per_sec, p1.backlog),
            (1500, 1000.0, 7)
        );
        assert_eq!(
            (p1.provider.as_str(), p1.base_rate),
            ("synthetic", Some(500.0))
        );
        assert_eq!(
            snapshot.health.as_ref().map(|h| h.state),
            Some(HealthState::Healthy)
        );
        assert_eq!(
            snapshot.health.as_ref().map(|h| h.components.len()),
            Some(4)
        );
    }

    #[test]
    fn a_hard_store_makes_the_system_unhealthy_with_its_reason() {
        let mut topology = four();
        let mut event = FeedbackEvent::new("s-2", 96, 100, Hard, T0 + 1.0).expect("event");
        event.reason = Some("queue_high".into());
        topology.feedback(&event, false, T0 + 1.0);
        let mut beat = FeedbackEvent::new("s-2", 97, 100, Hard, T0 + 1.2).expect("event");
        beat.reason = Some(REASON_HEARTBEAT.into());
        topology.feedback(&beat, false, T0 + 1.2);
        let snapshot = topology.snapshot(T0 + 1.5);
        let s2 = &snapshot.stores[1];
        assert_eq!((s2.level, s2.health), (Hard, HealthState::Unhealthy));
        assert_eq!(s2.reason, "hard: queue 97% full (queue_high)");
        assert_eq!(
            snapshot.reason.as_deref(),
            Some("store s-2: hard: queue 97% full (queue_high)")
        );
        // back to ok: the reason of the hard episode goes with it
        let event = FeedbackEvent::new("s-2", 5, 100, Ok, T0 + 2.0).expect("event");
        topology.feedback(&event, false, T0 + 2.0);
        let snapshot = topology.snapshot(T0 + 2.5);
        assert_eq!(snapshot.stores[1].reason, "ok: queue 5% full");
    }

    #[test]
    fn a_silent_member_turns_stale_then_gone_then_is_forgotten() {
        let mut topology = four();
        for (at, presence) in [
            (2.0, Presence::Live),
            (4.0, Presence::Stale),
            (16.0, Presence::Gone),
        ] {
            let snapshot = topology.snapshot(T0 + at);
            assert_eq!(snapshot.stores[0].presence, presence, "at {at}");
            assert_eq!(snapshot.pipelines[0].presence, presence, "at {at}");
        }
        let gone = topology.snapshot(T0 + 16.0);
        assert_eq!(gone.stores[0].health, HealthState::Unhealthy);
        assert_eq!(gone.pipelines[0].bars_per_sec, 0.0);
        assert_eq!(
            gone.reason.as_deref(),
            Some("no live store: nothing is written")
        );
        assert!(topology.snapshot(T0 + 700.0).stores.is_empty());
        assert!(topology.live(T0 + 700.0).is_empty());
    }

    #[test]
    fn a_goodbye_leaves_gracefully_and_a_later_report_brings_it_back() {
        let mut topology = four();
        let event = FeedbackEvent::new("s-1", 0, 100, Ok, T0 + 1.0).expect("event");
        topology.feedback(&event, true, T0 + 1.0);
        let snapshot = topology.snapshot(T0 + 1.5);
        assert_eq!(snapshot.stores[0].presence, Presence::Left);
        assert_eq!(snapshot.stores[0].health, HealthState::Healthy);
        assert!(
            !topology
                .live(T0 + 1.5)
                .contains(&(NodeRole::Store, "s-1".to_owned()))
        );
        // an older report arriving late does not undo the goodbye
        topology.status("s-1", &store_status(0, "ok", false), false, T0 + 0.5);
        assert_eq!(
            topology.snapshot(T0 + 1.6).stores[0].presence,
            Presence::Left
        );
        topology.status("s-1", &store_status(0, "ok", true), false, T0 + 2.0);
        let snapshot = topology.snapshot(T0 + 2.1);
        assert_eq!(snapshot.stores[0].presence, Presence::Live);
        assert!(snapshot.stores[0].paused);
    }

    #[test]
    fn a_pipelines_last_report_says_it_left() {
        let mut topology = four();
        topology.status("p-1", &pipeline_status(1200, 1.0), true, T0 + 1.0);
        let snapshot = topology.snapshot(T0 + 30.0);
        assert_eq!(snapshot.pipelines[0].presence, Presence::Left);
        assert_eq!(snapshot.pipelines[0].health, HealthState::Healthy);
        assert_eq!(snapshot.pipelines[1].presence, Presence::Gone);
        assert!(
            !topology
                .live(T0 + 1.5)
                .contains(&(NodeRole::Pipeline, "p-1".to_owned()))
        );
    }

    #[test]
    fn rate_adjustments_move_a_known_pipelines_scale_at_once() {
        let mut topology = four();
        let adjustment = RateAdjustment::new("synthetic", 0.0, Hard, T0 + 1.0).expect("valid");
        topology.adjustment("p-2", &adjustment, T0 + 1.0);
        topology.adjustment("p-unknown", &adjustment, T0 + 1.0);
        let snapshot = topology.snapshot(T0 + 1.2);
        assert_eq!(snapshot.pipelines.len(), 2);
        assert_eq!(
            (snapshot.pipelines[1].scale, snapshot.pipelines[1].level),
            (0.0, Hard)
        );
        assert_eq!(snapshot.pipelines[1].health, HealthState::Degraded);
    }
}
