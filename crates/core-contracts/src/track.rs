//! Schema tracks and the [`Contract`] trait every bus DTO implements.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A schema track: `v1` is the Python-compatible shape, `v2` adds optional fields only.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Track {
    /// The shape the Python originals read and write.
    #[default]
    V1,
    /// A backward-compatible extension of v1.
    V2,
}

impl Track {
    /// Both tracks, oldest first.
    pub const ALL: [Self; 2] = [Self::V1, Self::V2];

    /// The wire name of the track.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

impl std::fmt::Display for Track {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Track {
    type Err = crate::ContractError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v1" => Ok(Self::V1),
            "v2" => Ok(Self::V2),
            other => Err(crate::ContractError::invalid(
                "track",
                format!("must be one of v1, v2; got {other:?}"),
            )),
        }
    }
}

/// A DTO that travels on the bus under a constant schema id.
pub trait Contract:
    Serialize + serde::de::DeserializeOwned + JsonSchema + Clone + Send + 'static
{
    /// The schema id written to `meta.schema_id`, e.g. `telemetry.FeedbackEvent`.
    const SCHEMA_ID: &'static str;

    /// The schema id the Python library derives for its own class of this DTO when no id is
    /// given (`{module}.{class}` without the `market_data_core.` prefix, e.g.
    /// `telemetry.backpressure.FeedbackEvent`); read as an alias of [`Contract::SCHEMA_ID`]
    /// when joining a Python deployment, never written.
    const PYTHON_SCHEMA_ID: Option<&'static str> = None;

    /// Serde names of the optional fields that only the v2 track carries.
    const V2_FIELDS: &'static [&'static str] = &[];

    /// This value as written on `track`: on v1 the v2-only fields are cleared.
    fn for_track(&self, track: Track) -> Self {
        let _ = track;
        self.clone()
    }
}
