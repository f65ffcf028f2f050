//! Versions `MAJOR.MINOR.PATCH` and how big a step between two of them is, by Cargo's
//! convention: the leftmost non-zero component is the major one, so for `0.y.z` a change of
//! `y` is a major bump and a change of `z` a minor one, and for `0.0.z` every bump is major.

use std::fmt;
use std::str::FromStr;

/// A release version without pre-release or build parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version([u64; 3]);

/// How big a step from one version to the next is, smallest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Bump {
    /// The same version.
    None,
    /// Below the minor component (`1.2.3` to `1.2.4`).
    Patch,
    /// The component right of the major one (`1.2.3` to `1.3.0`, `0.2.3` to `0.2.4`).
    Minor,
    /// The leftmost non-zero component or one left of it (`1.2.3` to `2.0.0`, `0.2.3` to
    /// `0.3.0`, `0.0.3` to `0.0.4`).
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "no",
            Self::Patch => "a patch",
            Self::Minor => "a minor",
            Self::Major => "a major",
        })
    }
}

/// A version that does not read as `MAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionError(String);

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a MAJOR.MINOR.PATCH version", self.0)
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || VersionError(s.to_owned());
        let mut parts = s.split('.').map(|p| {
            let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| p.parse::<u64>().ok()).flatten()
        });
        let mut version = [0; 3];
        for slot in &mut version {
            *slot = parts.next().flatten().ok_or_else(error)?;
        }
        match parts.next() {
            None => Ok(Self(version)),
            Some(_) => Err(error()),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch] = self.0;
        write!(f, "{major}.{minor}.{patch}")
    }
}

impl Version {
    /// Index of the component a major bump changes: the leftmost non-zero one.
    fn major_index(self) -> usize {
        self.0.iter().position(|c| *c != 0).unwrap_or(2)
    }

    /// The step from `self` to `later`; `None` when `later` is older.
    pub(crate) fn bump_to(self, later: Self) -> Option<Bump> {
        if later < self {
            return None;
        }
        let Some(changed) = (0..3).find(|i| self.0[*i] != later.0[*i]) else {
            return Some(Bump::None);
        };
        let major = self.major_index();
        Some(if changed <= major {
            Bump::Major
        } else if changed == major + 1 {
            Bump::Minor
        } else {
            Bump::Patch
        })
    }

    /// The smallest version after `self` that is a `bump` of it.
    pub(crate) fn next(self, bump: Bump) -> Self {
        let changed = match bump {
            Bump::None => return self,
            Bump::Major => self.major_index(),
            Bump::Minor => (self.major_index() + 1).min(2),
            Bump::Patch => (self.major_index() + 2).min(2),
        };
        let mut next = self.0;
        next[changed] += 1;
        for later in &mut next[changed + 1..] {
            *later = 0;
        }
        Self(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().expect("a version")
    }

    #[test]
    fn reads_and_writes_three_numbers_only() {
        assert_eq!(v("0.12.3").to_string(), "0.12.3");
        for bad in [
            "1.2",
            "1.2.3.4",
            "1.2.x",
            "1.2.3-rc.1",
            "",
            "1..3",
            "+1.2.3",
        ] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn steps_follow_cargo_for_one_and_later() {
        assert_eq!(v("1.2.3").bump_to(v("1.2.3")), Some(Bump::None));
        assert_eq!(v("1.2.3").bump_to(v("1.2.4")), Some(Bump::Patch));
        assert_eq!(v("1.2.3").bump_to(v("1.3.0")), Some(Bump::Minor));
        assert_eq!(v("1.2.3").bump_to(v("2.0.0")), Some(Bump::Major));
        assert_eq!(v("1.2.3").bump_to(v("1.2.2")), None);
    }

    #[test]
    fn steps_follow_cargo_for_zero_versions() {
        assert_eq!(v("0.1.0").bump_to(v("0.1.1")), Some(Bump::Minor));
        assert_eq!(v("0.1.0").bump_to(v("0.2.0")), Some(Bump::Major));
        assert_eq!(v("0.1.9").bump_to(v("1.0.0")), Some(Bump::Major));
        assert_eq!(v("0.0.3").bump_to(v("0.0.4")), Some(Bump::Major));
        assert_eq!(v("0.2.0").bump_to(v("0.1.5")), None);
    }

    #[test]
    fn the_next_version_is_the_smallest_such_bump() {
        assert_eq!(v("0.1.3").next(Bump::Major), v("0.2.0"));
        assert_eq!(v("0.1.3").next(Bump::Minor), v("0.1.4"));
        assert_eq!(v("1.2.3").next(Bump::Minor), v("1.3.0"));
        assert_eq!(v("1.2.3").next(Bump::Patch), v("1.2.4"));
        assert_eq!(v("0.0.3").next(Bump::Minor), v("0.0.4"));
    }
}
