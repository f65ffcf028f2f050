//! The staleness windows: how long a store coordinator's word counts.

use std::time::Duration;

use super::FeedbackError;

/// How long a store coordinator's word counts.
///
/// A coordinator heard within `stale_after` counts at the level it reported; one silent for
/// longer counts as `soft` (the fail-safe) until `forget_after`, when it is forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    stale_after: Duration,
    forget_after: Duration,
}

impl Default for Windows {
    /// Stale after 15 s (three 5 s heartbeats), forgotten after 300 s.
    fn default() -> Self {
        Self {
            stale_after: Duration::from_secs(15),
            forget_after: Duration::from_secs(300),
        }
    }
}

impl Windows {
    /// Windows derived from the store heartbeat: stale after three missed heartbeats.
    ///
    /// ```
    /// use pipeline::feedback::Windows;
    /// use std::time::Duration;
    /// let w = Windows::from_heartbeat(Duration::from_secs(5), Duration::from_secs(300))?;
    /// assert_eq!(w.stale_after(), Duration::from_secs(15));
    /// # Ok::<(), pipeline::feedback::FeedbackError>(())
    /// ```
    pub fn from_heartbeat(
        heartbeat: Duration,
        forget_after: Duration,
    ) -> Result<Self, FeedbackError> {
        Self::new(heartbeat.saturating_mul(3), forget_after)
    }

    /// Windows with `0 < stale_after < forget_after`.
    pub fn new(stale_after: Duration, forget_after: Duration) -> Result<Self, FeedbackError> {
        if stale_after.is_zero() {
            return Err(FeedbackError::InvalidWindows(
                "the staleness window must be > 0".to_owned(),
            ));
        }
        if forget_after <= stale_after {
            return Err(FeedbackError::InvalidWindows(format!(
                "forget-after ({forget_after:?}) must exceed the staleness window ({stale_after:?})"
            )));
        }
        Ok(Self {
            stale_after,
            forget_after,
        })
    }

    /// Silence after which a coordinator counts as `soft`.
    pub fn stale_after(&self) -> Duration {
        self.stale_after
    }

    /// Silence after which a coordinator is forgotten.
    pub fn forget_after(&self) -> Duration {
        self.forget_after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[test]
    fn windows_must_be_ordered() {
        assert!(Windows::new(s(0), s(10)).is_err());
        assert!(Windows::new(s(15), s(15)).is_err());
        assert!(Windows::from_heartbeat(s(5), s(15)).is_err());
        assert!(Windows::from_heartbeat(s(5), s(16)).is_ok());
    }
}
