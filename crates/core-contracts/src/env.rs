//! Typed reads of environment variables through an injected lookup (a variable's name to its
//! value, if set), so that configuration is pure and tests never touch the process
//! environment. An unset or blank variable takes its default; a value of the wrong form is an
//! [`EnvError`] naming the variable, the value and what is accepted.
//!
//! Every crate reads its settings with these; each wraps [`EnvError`] in its own config error.

use std::str::FromStr;
use std::time::Duration;

/// A variable holding a value of the wrong form or out of range.
///
/// ```
/// use core_contracts::env::Env;
/// let lookup = |var: &str| (var == "WORKERS").then(|| "-2".to_owned());
/// let err = Env::new(&lookup).count::<u32>("WORKERS", 4).expect_err("negative");
/// assert_eq!(err.to_string(), "WORKERS=\"-2\": expected a positive integer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value:?}: expected {expected}")]
pub struct EnvError {
    /// The environment variable.
    pub var: &'static str,
    /// The value read (trimmed).
    pub value: String,
    /// What is accepted.
    pub expected: String,
}

impl EnvError {
    /// `var` holds `value`, not what `expected` describes.
    pub fn new(var: &'static str, value: &str, expected: &str) -> Self {
        Self {
            var,
            value: value.to_owned(),
            expected: expected.to_owned(),
        }
    }
}

/// What a boolean variable accepts.
pub const BOOLEAN: &str = "a boolean: one of true, false, 1, 0, yes, no, on, off";
/// What a positive integer variable accepts.
pub const POSITIVE_INTEGER: &str = "a positive integer";
/// What a non-negative integer variable accepts.
pub const NON_NEGATIVE_INTEGER: &str = "a non-negative integer";
/// What a variable of seconds accepts.
pub const SECONDS: &str = "a positive number of seconds, e.g. 0.25";

/// Typed access to variables through a lookup function.
///
/// ```
/// use core_contracts::env::Env;
/// use std::time::Duration;
/// let lookup = |var: &str| match var {
///     "ON" => Some("yes".to_owned()),
///     "WAIT" => Some(" 0.25 ".to_owned()),
///     "BLANK" => Some("  ".to_owned()),
///     _ => None,
/// };
/// let env = Env::new(&lookup);
/// assert_eq!(env.bool("ON", false), Ok(true));
/// assert_eq!(env.secs("WAIT", Duration::from_secs(1)), Ok(Duration::from_millis(250)));
/// assert_eq!(env.count::<u32>("BLANK", 7), Ok(7));
/// ```
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").finish_non_exhaustive()
    }
}

impl<'a> Env<'a> {
    /// Reads variables through `lookup`.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The value exactly as set (untrimmed), `None` when unset.
    pub fn exact(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
    }

    /// The trimmed value, `None` when unset or blank.
    pub fn raw(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The trimmed value, or `default`.
    pub fn string(&self, var: &str, default: &str) -> String {
        self.raw(var).unwrap_or_else(|| default.to_owned())
    }

    /// The value read by `parse`, which returns `None` for a value not of the form
    /// `expected` describes.
    pub fn parse_with<T>(
        &self,
        var: &'static str,
        default: T,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<T, EnvError> {
        match self.raw(var) {
            None => Ok(default),
            Some(raw) => parse(&raw).ok_or_else(|| EnvError::new(var, &raw, expected)),
        }
    }

    /// The value read by [`FromStr`].
    pub fn parse<T: FromStr>(
        &self,
        var: &'static str,
        default: T,
        expected: &str,
    ) -> Result<T, EnvError> {
        self.parse_with(var, default, expected, |v| v.parse().ok())
    }

    /// One of `choices` (matched without regard to case): `one of a, b, ...`.
    pub fn choice<T: Copy>(
        &self,
        var: &'static str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, EnvError> {
        let names: Vec<&str> = choices.iter().map(|(name, _)| *name).collect();
        let expected = format!("one of {}", names.join(", "));
        self.parse_with(var, default, &expected, |v| {
            choices
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(v))
                .map(|(_, value)| *value)
        })
    }

    /// A boolean: `true`, `false`, `1`, `0`, `yes`, `no`, `on` or `off`.
    pub fn bool(&self, var: &'static str, default: bool) -> Result<bool, EnvError> {
        self.parse_with(var, default, BOOLEAN, |v| {
            match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => None,
            }
        })
    }

    /// An integer `> 0` (`T` a plain integer or a `NonZero` one).
    pub fn count<T: FromStr + PartialOrd + Default>(
        &self,
        var: &'static str,
        default: T,
    ) -> Result<T, EnvError> {
        self.parse_with(var, default, POSITIVE_INTEGER, |v| {
            v.parse().ok().filter(|n| *n > T::default())
        })
    }

    /// A `NonZero` integer.
    pub fn non_zero<T: FromStr>(&self, var: &'static str, default: T) -> Result<T, EnvError> {
        self.parse(var, default, POSITIVE_INTEGER)
    }

    /// An integer `>= 0`.
    pub fn whole<T: FromStr>(&self, var: &'static str, default: T) -> Result<T, EnvError> {
        self.parse(var, default, NON_NEGATIVE_INTEGER)
    }

    /// A whole number of milliseconds, `>= 0`.
    pub fn millis(&self, var: &'static str, default: Duration) -> Result<Duration, EnvError> {
        self.parse_with(
            var,
            default,
            "a non-negative integer of milliseconds",
            |v| v.parse().ok().map(Duration::from_millis),
        )
    }

    /// A whole number of milliseconds, `> 0`.
    pub fn positive_millis(
        &self,
        var: &'static str,
        default: Duration,
    ) -> Result<Duration, EnvError> {
        self.parse_with(var, default, "a positive integer of milliseconds", |v| {
            v.parse()
                .ok()
                .filter(|ms| *ms > 0)
                .map(Duration::from_millis)
        })
    }

    /// A number of seconds, `> 0` (fractions allowed).
    pub fn secs(&self, var: &'static str, default: Duration) -> Result<Duration, EnvError> {
        self.parse_with(var, default, SECONDS, |v| {
            v.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
        })
    }

    /// Like [`Env::secs`], `None` when unset.
    pub fn optional_secs(&self, var: &'static str) -> Result<Option<Duration>, EnvError> {
        match self.raw(var) {
            None => Ok(None),
            Some(_) => self.secs(var, Duration::ZERO).map(Some),
        }
    }

    /// A finite number `> 0`.
    pub fn positive(&self, var: &'static str, default: f64) -> Result<f64, EnvError> {
        self.parse_with(var, default, "a finite number > 0", |v| {
            v.parse::<f64>().ok().filter(|x| x.is_finite() && *x > 0.0)
        })
    }

    /// A number in `[0, 1]`.
    pub fn unit(&self, var: &'static str, default: f64) -> Result<f64, EnvError> {
        self.parse_with(var, default, "a number within [0, 1]", |v| {
            v.parse::<f64>().ok().filter(|x| (0.0..=1.0).contains(x))
        })
    }

    /// A finite number `>= 1`.
    pub fn at_least_one(&self, var: &'static str, default: f64) -> Result<f64, EnvError> {
        self.parse_with(var, default, "a number >= 1", |v| {
            v.parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 1.0)
        })
    }

    /// A name: `default` when unset; set, it must be non-blank and hold no whitespace (it
    /// is used trimmed).
    pub fn name(&self, var: &'static str, default: &str) -> Result<String, EnvError> {
        let Some(value) = (self.lookup)(var) else {
            return Ok(default.to_owned());
        };
        let name = value.trim();
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EnvError::new(
                var,
                &value,
                "a non-empty name without whitespace (unset it to use the default)",
            ));
        }
        Ok(name.to_owned())
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
        let err = with(&[("B", "maybe")], |env| env.bool("B", true)).expect_err("refused");
        assert_eq!(err.expected, BOOLEAN);
    }

    #[test]
    fn blank_values_take_the_default() {
        assert_eq!(
            with(&[("X", "  ")], |env| env.secs("X", Duration::from_secs(5))),
            Ok(Duration::from_secs(5))
        );
    }

    #[test]
    fn each_reader_refuses_what_it_does_not_accept() {
        type Check = fn(&Env<'_>) -> Result<(), EnvError>;
        let cases: &[(&str, Check, &str)] = &[
            (
                "0",
                |e| e.count::<u32>("V", 1).map(drop),
                "positive integer",
            ),
            ("-1", |e| e.whole::<u32>("V", 1).map(drop), "non-negative"),
            (
                "0",
                |e| e.non_zero("V", std::num::NonZeroU32::MIN).map(drop),
                "positive integer",
            ),
            (
                "1.5",
                |e| e.millis("V", Duration::ZERO).map(drop),
                "milliseconds",
            ),
            (
                "0",
                |e| e.positive_millis("V", Duration::ZERO).map(drop),
                "positive integer of milliseconds",
            ),
            ("0", |e| e.secs("V", Duration::ZERO).map(drop), "seconds"),
            ("inf", |e| e.positive("V", 1.0).map(drop), "> 0"),
            ("1.5", |e| e.unit("V", 1.0).map(drop), "[0, 1]"),
            ("0.5", |e| e.at_least_one("V", 1.0).map(drop), ">= 1"),
            (
                "kafka",
                |e| e.choice("V", 1, &[("inmem", 1), ("redis", 2)]).map(drop),
                "one of inmem, redis",
            ),
        ];
        for (value, check, expected) in cases {
            let err = with(&[("V", value)], check).expect_err(value);
            assert!(
                err.to_string()
                    .starts_with(&format!("V={value:?}: expected "))
                    && err.expected.contains(expected),
                "{value}: {err}"
            );
        }
    }

    #[test]
    fn choices_ignore_case() {
        let choices = [("inmem", 1), ("redis", 2)];
        assert_eq!(
            with(&[("V", "Redis")], |e| e.choice("V", 1, &choices)),
            Ok(2)
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
}
