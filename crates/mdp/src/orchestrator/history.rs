//! The last minutes of every member, for the page's charts: one sample per member per
//! topology snapshot, kept for the window (10 minutes), served as `GET /api/history`.

use std::collections::{BTreeMap, VecDeque};

use core_contracts::ClusterTopology;
use serde::Serialize;

/// One reading of one member.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Sample {
    ts: f64,
    /// A store's queue utilization, 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    utilization: Option<f64>,
    /// A pipeline's rate scale, 0..1.
    #[serde(skip_serializing_if = "Option::is_none")]
    scale: Option<f64>,
    /// A pipeline's bars per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    bars_per_sec: Option<f64>,
    /// The backlog a pipeline sees.
    #[serde(skip_serializing_if = "Option::is_none")]
    backlog: Option<u64>,
}

#[derive(Debug, Clone)]
struct Series {
    role: &'static str,
    samples: VecDeque<Sample>,
}

/// One member's samples, as served.
#[derive(Debug, Serialize)]
pub(crate) struct MemberHistory<'a> {
    id: &'a str,
    role: &'static str,
    samples: &'a VecDeque<Sample>,
}

/// `GET /api/history`.
#[derive(Debug, Serialize)]
pub(crate) struct HistoryView<'a> {
    window_sec: f64,
    members: Vec<MemberHistory<'a>>,
}

/// The samples of every member within the window.
#[derive(Debug, Clone)]
pub(crate) struct History {
    window: f64,
    members: BTreeMap<String, Series>,
}

impl History {
    /// Keeps `window` seconds.
    pub(crate) fn new(window: f64) -> Self {
        Self {
            window,
            members: BTreeMap::new(),
        }
    }

    /// Adds a sample of every member of `topology` at its `ts`; forgets what is older than
    /// the window, and members with no sample left.
    pub(crate) fn record(&mut self, topology: &ClusterTopology) {
        let Some(ts) = topology.ts else { return };
        for store in &topology.stores {
            self.push(
                &store.id,
                "store",
                Sample {
                    ts,
                    utilization: Some(store.utilization),
                    scale: None,
                    bars_per_sec: None,
                    backlog: None,
                },
            );
        }
        for pipeline in &topology.pipelines {
            self.push(
                &pipeline.id,
                "pipeline",
                Sample {
                    ts,
                    utilization: None,
                    scale: Some(pipeline.scale),
                    bars_per_sec: Some(pipeline.bars_per_sec),
                    backlog: Some(pipeline.backlog),
                },
            );
        }
        let oldest = ts - self.window;
        self.members.retain(|_, series| {
            while series.samples.front().is_some_and(|s| s.ts < oldest) {
                series.samples.pop_front();
            }
            !series.samples.is_empty()
        });
    }

    fn push(&mut self, id: &str, role: &'static str, sample: Sample) {
        self.members
            .entry(id.to_owned())
            .or_insert_with(|| Series {
                role,
                samples: VecDeque::new(),
            })
            .samples
            .push_back(sample);
    }

    /// What `GET /api/history` serves.
    pub(crate) fn view(&self) -> HistoryView<'_> {
        HistoryView {
            window_sec: self.window,
            members: self
                .members
                .iter()
                .map(|(id, series)| MemberHistory {
                    id,
                    role: series.role,
                    samples: &series.samples,
                })
                .collect(),
        }
    }
}
