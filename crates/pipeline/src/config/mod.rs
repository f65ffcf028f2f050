//! Settings of the pipeline, read from the environment through an injectable lookup, with
//! errors that name the variable.

mod error;
pub mod feedback;
pub mod rate;
pub mod source;

pub use error::ConfigError;
pub use feedback::FeedbackSettings;
pub use source::{SourceKind, SourceSettings};

use crate::rate::ProviderConfig;

/// Every setting of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// `MDP_FB_*`.
    pub feedback: FeedbackSettings,
    /// `MDP_RATE_*`, for the provider `feedback.provider_name`.
    pub rate: ProviderConfig,
    /// `MDP_SOURCE_*`.
    pub source: SourceSettings,
}

impl PipelineSettings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(&|var| std::env::var(var).ok())
    }

    /// Reads variables through `lookup`; unset or blank variables take their defaults.
    ///
    /// ```
    /// use pipeline::PipelineSettings;
    /// let settings = PipelineSettings::from_lookup(&|var| match var {
    ///     "MDP_FB_SCALE_SOFT" => Some("0.25".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(settings.rate.capacity, 60);
    /// let err = PipelineSettings::from_lookup(&|var| {
    ///     (var == "MDP_FB_HEARTBEAT_SEC").then(|| "soon".into())
    /// })
    /// .expect_err("not a number of seconds");
    /// assert!(err.to_string().contains("MDP_FB_HEARTBEAT_SEC"));
    /// # Ok::<(), pipeline::config::ConfigError>(())
    /// ```
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = core_contracts::env::Env::new(lookup);
        let feedback = FeedbackSettings::read(&env)?;
        let rate = rate::read(&env)?;
        let source = SourceSettings::read(&env, rate.capacity)?;
        Ok(Self {
            feedback,
            rate,
            source,
        })
    }
}
