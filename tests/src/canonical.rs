//! One canonical, valid example of every DTO, used by the snapshot tests.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use core_contracts::{
    AuditEnvelope, BackpressureLevel, Bar, ClusterTopology, ControlAction, ControlCommand,
    ControlReply, ControlResult, ControlStatus, FeedbackEvent, HealthComponent, HealthState,
    HealthStatus, NodeRole, Probe, ProbeType, RateAdjustment,
};
use rust_decimal::Decimal;

/// A fixed event time: 2024-10-18T06:56:07.123Z.
pub const TS: f64 = 1_729_234_567.123;

/// A soft event of `bars-coord` at 80 % of its capacity, with every v2 field set.
pub fn feedback_event() -> FeedbackEvent {
    FeedbackEvent::new("bars-coord", 80, 100, BackpressureLevel::Soft, TS)
        .expect("canonical feedback event is valid")
        .with_reason("queue_high_watermark")
        .with_seq(42)
}

/// Halving the rate of `ibkr` because of soft pressure from `bars-coord`.
pub fn rate_adjustment() -> RateAdjustment {
    RateAdjustment::new("ibkr", 0.5, BackpressureLevel::Soft, TS)
        .expect("canonical rate adjustment is valid")
        .with_coordinator("bars-coord")
}

/// A degraded store whose sink is slow.
pub fn health_status() -> HealthStatus {
    HealthStatus {
        service: "mdp-store".into(),
        state: HealthState::Degraded,
        components: vec![health_component()],
        version: "0.1.0".into(),
        ts: TS,
    }
}

/// A degraded sink with one detail.
pub fn health_component() -> HealthComponent {
    HealthComponent {
        name: "sink".into(),
        state: HealthState::Degraded,
        details: BTreeMap::from([("latency_ms".to_owned(), "250".to_owned())]),
    }
}

/// A failed readiness probe.
pub fn probe() -> Probe {
    Probe {
        probe_type: ProbeType::Readiness,
        passed: false,
        message: Some("sink unreachable".into()),
    }
}

/// A successful pause.
pub fn control_result() -> ControlResult {
    ControlResult {
        status: ControlStatus::Ok,
        detail: Some("paused".into()),
    }
}

/// An operator pausing the pipeline.
pub fn audit_envelope() -> AuditEnvelope {
    AuditEnvelope {
        actor: "ops@example.invalid".into(),
        role: "operator".into(),
        action: ControlAction::Pause,
        result: control_result(),
        ts: TS,
        target: Some("all".into()),
    }
}

/// One minute of AAPL.
pub fn bar() -> Bar {
    Bar {
        provider: "ibkr".into(),
        symbol: "AAPL".into(),
        resolution: "1m".into(),
        ts: Utc
            .with_ymd_and_hms(2024, 5, 1, 13, 30, 0)
            .single()
            .expect("valid time"),
        open: Decimal::new(18725, 2),
        high: Decimal::new(18790, 2),
        low: Decimal::new(18710, 2),
        close: Decimal::new(18780, 2),
        volume: Decimal::new(12_000, 0),
        delayed: false,
    }
}

/// An operator raising every pipeline's base rate.
pub fn control_command() -> ControlCommand {
    ControlCommand {
        id: "5b9e6c1e-0d7e-4c55-9d0f-3f1a4e2b7c10".into(),
        action: ControlAction::SetRate,
        target: "all".into(),
        value: Some(2500.0),
        actor: "ops@example.invalid".into(),
        role: "admin".into(),
        ts: TS,
    }
}

/// A pipeline's answer to [`control_command`].
pub fn control_reply() -> ControlReply {
    ControlReply {
        command_id: control_command().id,
        member: "pipeline-1".into(),
        role: NodeRole::Pipeline,
        action: ControlAction::SetRate,
        result: ControlResult {
            status: ControlStatus::Ok,
            detail: Some("base rate 2500 bars/s (was 2000)".into()),
        },
        ts: TS,
    }
}

/// Two stores (one hard) and two pipelines (one stale), as `mdp orchestrator` reports them.
pub fn cluster_topology() -> ClusterTopology {
    core_contracts::decode(include_str!(
        "../../crates/mdp/tests/fixtures/topology.json"
    ))
    .expect("the recorded topology decodes")
}
