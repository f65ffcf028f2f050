//! Typed reads of environment variables through an injectable lookup, so that tests never
//! touch the process environment.

use std::str::FromStr;
use std::time::Duration;

use super::ConfigError;

/// Reads variables through `lookup`; an unset or blank variable takes its default.
pub(crate) struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub(crate) fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The trimmed value of `var`, if set and not blank.
    pub(crate) fn raw(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn string(&self, var: &'static str, default: &str) -> String {
        self.raw(var).unwrap_or_else(|| default.to_owned())
    }

    /// A name: `default` when unset, an error when set but blank or holding whitespace.
    pub(crate) fn name(&self, var: &'static str, default: &str) -> Result<String, ConfigError> {
        let Some(value) = (self.lookup)(var) else {
            return Ok(default.to_owned());
        };
        let name = value.trim();
        if name.is_empty() {
            return Err(invalid(
                var,
                &value,
                "must not be empty (unset it to use the default)",
            ));
        }
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(var, &value, "must not contain whitespace"));
        }
        Ok(name.to_owned())
    }

    pub(crate) fn parse<T: FromStr>(
        &self,
        var: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, ConfigError> {
        match self.raw(var) {
            None => Ok(default),
            Some(value) => value.parse().map_err(|_| invalid(var, &value, expected)),
        }
    }

    pub(crate) fn bool(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        let Some(value) = self.raw(var) else {
            return Ok(default);
        };
        match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(invalid(var, &value, "must be true or false")),
        }
    }

    /// A number in `[0, 1]`.
    pub(crate) fn unit(&self, var: &'static str, default: f64) -> Result<f64, ConfigError> {
        let value = self.parse(var, default, "must be a number within [0, 1]")?;
        if !(0.0..=1.0).contains(&value) {
            return Err(invalid(var, &value.to_string(), "must be within [0, 1]"));
        }
        Ok(value)
    }

    /// A finite number `> 0`.
    pub(crate) fn positive(&self, var: &'static str, default: f64) -> Result<f64, ConfigError> {
        let value = self.parse(var, default, "must be a number > 0")?;
        if !value.is_finite() || value <= 0.0 {
            return Err(invalid(
                var,
                &value.to_string(),
                "must be a finite number > 0",
            ));
        }
        Ok(value)
    }

    /// A duration in seconds, `> 0` (fractions allowed).
    pub(crate) fn secs(&self, var: &'static str, default: f64) -> Result<Duration, ConfigError> {
        let secs = self.positive(var, default)?;
        Duration::try_from_secs_f64(secs)
            .map_err(|_| invalid(var, &secs.to_string(), "must be a number of seconds"))
    }

    /// An integer `> 0`.
    pub(crate) fn count<T>(&self, var: &'static str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Default + ToString,
    {
        let value = self.parse(var, default, "must be a whole number > 0")?;
        if value <= T::default() {
            return Err(invalid(var, &value.to_string(), "must be > 0"));
        }
        Ok(value)
    }
}

pub(crate) fn invalid(var: &'static str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<T>(pairs: &[(&str, &str)], f: impl FnOnce(&Env<'_>) -> T) -> T {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = move |var: &str| pairs.iter().find(|(k, _)| k == var).map(|(_, v)| v.clone());
        f(&Env::new(&lookup))
    }

    #[test]
    fn booleans_accept_the_usual_spellings() {
        let cases = [
            ("true", true),
            ("1", true),
            ("ON", true),
            ("no", false),
            ("False", false),
        ];
        for (text, expected) in cases {
            assert_eq!(
                with(&[("B", text)], |env| env.bool("B", !expected)),
                Ok(expected)
            );
        }
        assert!(with(&[("B", "maybe")], |env| env.bool("B", true)).is_err());
    }

    #[test]
    fn blank_values_take_the_default() {
        assert_eq!(
            with(&[("X", "  ")], |env| env.secs("X", 5.0)),
            Ok(Duration::from_secs(5))
        );
    }

    #[test]
    fn names_take_the_default_when_unset_and_refuse_blanks() {
        assert_eq!(
            with(&[], |env| env.name("N", "dflt")),
            Ok("dflt".to_owned())
        );
        assert_eq!(
            with(&[("N", " pipe-1 ")], |env| env.name("N", "dflt")),
            Ok("pipe-1".to_owned())
        );
        for bad in ["", "   ", "a b"] {
            let err = with(&[("N", bad)], |env| env.name("N", "dflt")).expect_err("refused");
            assert!(err.to_string().starts_with("N="), "{err}");
        }
    }

    #[test]
    fn errors_name_the_variable() {
        let err = with(&[("MDP_X", "abc")], |env| env.secs("MDP_X", 5.0)).expect_err("invalid");
        assert!(err.to_string().starts_with("MDP_X=\"abc\""), "{err}");
        let err =
            with(&[("MDP_Y", "-1")], |env| env.count::<u32>("MDP_Y", 1)).expect_err("invalid");
        assert!(err.to_string().starts_with("MDP_Y="), "{err}");
    }
}
