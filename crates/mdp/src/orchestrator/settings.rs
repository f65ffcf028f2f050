//! The orchestrator's settings from the environment: its staleness windows, how long a
//! command waits for answers, and `ADMIN_TOKEN` (control is off without it).

use std::time::Duration;

use core_contracts::env::{Env, EnvError};
use store::config::AdminToken;

use super::health::Windows;

/// Silent longer than this (seconds): a member is stale.
pub(crate) const STALE_AFTER: &str = "MDP_ORCH_STALE_AFTER_SEC";
/// Silent longer than this: gone.
pub(crate) const GONE_AFTER: &str = "MDP_ORCH_GONE_AFTER_SEC";
/// Gone or left longer than this: no longer listed.
pub(crate) const FORGET_AFTER: &str = "MDP_ORCH_FORGET_AFTER_SEC";
/// How long a command waits for the members' answers.
pub(crate) const REPLY_TIMEOUT: &str = "MDP_ORCH_REPLY_TIMEOUT_SEC";

/// The orchestrator's settings.
#[derive(Debug, Clone)]
pub(crate) struct OrchestratorSettings {
    pub(crate) windows: Windows,
    pub(crate) reply_timeout: Duration,
    pub(crate) token: Option<AdminToken>,
}

impl OrchestratorSettings {
    /// From the process environment.
    pub(crate) fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(&|var| std::env::var(var).ok())
    }

    /// From `lookup`.
    pub(crate) fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let env = Env::new(lookup);
        let defaults = Windows::default();
        let stale_after = env.positive(STALE_AFTER, defaults.stale_after)?;
        let gone_after = env.positive(GONE_AFTER, defaults.gone_after)?;
        if gone_after <= stale_after {
            return Err(EnvError::new(
                GONE_AFTER,
                &gone_after.to_string(),
                &format!("seconds > {STALE_AFTER} ({stale_after})"),
            ));
        }
        let forget_after = env.positive(FORGET_AFTER, defaults.forget_after)?;
        Ok(Self {
            windows: Windows {
                stale_after,
                gone_after,
                forget_after,
            },
            reply_timeout: Duration::from_secs_f64(env.positive(REPLY_TIMEOUT, 5.0)?),
            token: env.exact("ADMIN_TOKEN").and_then(AdminToken::new),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |var| {
            pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let settings = OrchestratorSettings::from_lookup(&lookup(&[])).expect("defaults");
        assert_eq!(settings.windows, Windows::default());
        assert_eq!(settings.reply_timeout, Duration::from_secs(5));
        assert!(settings.token.is_none());
        let settings = OrchestratorSettings::from_lookup(&lookup(&[
            (STALE_AFTER, "1"),
            (GONE_AFTER, "4"),
            ("ADMIN_TOKEN", "s3cret"),
        ]))
        .expect("valid");
        assert_eq!(
            (settings.windows.stale_after, settings.windows.gone_after),
            (1.0, 4.0)
        );
        assert!(settings.token.is_some());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (pairs, var) in [
            (&[(STALE_AFTER, "soon")][..], STALE_AFTER),
            (&[(STALE_AFTER, "5"), (GONE_AFTER, "5")][..], GONE_AFTER),
            (&[(REPLY_TIMEOUT, "-1")][..], REPLY_TIMEOUT),
        ] {
            let error = OrchestratorSettings::from_lookup(&lookup(pairs)).expect_err("refused");
            assert!(error.to_string().contains(var), "{error}");
        }
    }
}
