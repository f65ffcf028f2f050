//! What a put does when the queue is full.

use serde::{Deserialize, Serialize};

/// Behaviour of a put on a full queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowStrategy {
    /// Wait until a get makes room (the default).
    #[default]
    Block,
    /// Remove the oldest item to make room; it is counted and handed to the drop callback.
    DropOldest,
    /// Refuse the item with [`PutError::QueueFull`](super::PutError::QueueFull).
    Error,
}

impl OverflowStrategy {
    /// The configuration name: `block`, `drop_oldest` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Block => "block",
            Self::DropOldest => "drop_oldest",
            Self::Error => "error",
        }
    }
}

impl std::str::FromStr for OverflowStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "block" => Ok(Self::Block),
            "drop_oldest" => Ok(Self::DropOldest),
            "error" => Ok(Self::Error),
            other => Err(format!(
                "overflow strategy must be one of block, drop_oldest, error; got {other:?}"
            )),
        }
    }
}
