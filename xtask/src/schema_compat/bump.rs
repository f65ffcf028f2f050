//! The version rule: a schema change since the released baseline needs a bump of
//! core-contracts' version at least as big as the change.

use std::fmt;

use super::version::{Bump, Version};

/// How the current schemas differ from the released ones, as the checker judged them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SchemaChange {
    /// The same schemas, apart from the version stamp.
    Unchanged,
    /// Different, but nothing breaking: annotations, widenings, new optional vocabulary.
    Compatible,
    /// At least one breaking change.
    Breaking,
}

impl SchemaChange {
    /// The smallest version bump this change needs.
    pub(crate) fn required_bump(self) -> Bump {
        match self {
            Self::Unchanged => Bump::None,
            Self::Compatible => Bump::Minor,
            Self::Breaking => Bump::Major,
        }
    }
}

/// Why the current version does not fit the schema change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BumpError {
    /// The current version is older than the released one.
    Backwards {
        /// The baseline's version.
        released: Version,
        /// core-contracts' version now.
        current: Version,
    },
    /// The bump is smaller than the change needs.
    TooSmall {
        /// The change.
        change: SchemaChange,
        /// The baseline's version.
        released: Version,
        /// core-contracts' version now.
        current: Version,
    },
}

impl fmt::Display for BumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Backwards { released, current } => write!(
                f,
                "core-contracts is at {current}, older than the released schemas' {released}"
            ),
            Self::TooSmall {
                change,
                released,
                current,
            } => {
                let needed = change.required_bump();
                let what = match change {
                    SchemaChange::Breaking => "a breaking",
                    _ => "a compatible",
                };
                write!(
                    f,
                    "the schemas changed in {what} way since {released}, which needs {needed} \
                     bump of core-contracts' version (at least {}, in \
                     crates/core-contracts/Cargo.toml and its users' requirements); it is at \
                     {current}",
                    released.next(needed)
                )
            }
        }
    }
}

/// Checks that going from `released` to `current` is a big enough bump for `change`;
/// returns the bump made.
pub(crate) fn check_bump(
    change: SchemaChange,
    released: Version,
    current: Version,
) -> Result<Bump, BumpError> {
    let made = released
        .bump_to(current)
        .ok_or(BumpError::Backwards { released, current })?;
    if made < change.required_bump() {
        return Err(BumpError::TooSmall {
            change,
            released,
            current,
        });
    }
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().expect("a version")
    }

    #[test]
    fn unchanged_schemas_need_no_bump() {
        assert_eq!(
            check_bump(SchemaChange::Unchanged, v("0.1.0"), v("0.1.0")),
            Ok(Bump::None)
        );
        assert_eq!(
            check_bump(SchemaChange::Unchanged, v("0.1.0"), v("0.2.0")),
            Ok(Bump::Major)
        );
    }

    #[test]
    fn a_compatible_change_without_a_bump_is_an_error() {
        let error =
            check_bump(SchemaChange::Compatible, v("0.1.0"), v("0.1.0")).expect_err("needs a bump");
        assert!(matches!(error, BumpError::TooSmall { .. }));
        assert!(error.to_string().contains("at least 0.1.1"), "{error}");
    }

    #[test]
    fn a_compatible_change_with_a_minor_bump_is_fine() {
        assert_eq!(
            check_bump(SchemaChange::Compatible, v("0.1.0"), v("0.1.1")),
            Ok(Bump::Minor)
        );
        assert_eq!(
            check_bump(SchemaChange::Compatible, v("1.4.2"), v("1.5.0")),
            Ok(Bump::Minor)
        );
    }

    #[test]
    fn a_compatible_change_with_only_a_patch_bump_after_one_is_an_error() {
        assert!(check_bump(SchemaChange::Compatible, v("1.4.2"), v("1.4.3")).is_err());
    }

    #[test]
    fn a_breaking_change_with_only_a_minor_bump_is_an_error() {
        let error = check_bump(SchemaChange::Breaking, v("0.1.0"), v("0.1.1"))
            .expect_err("needs a major bump");
        assert!(error.to_string().contains("at least 0.2.0"), "{error}");
        assert!(check_bump(SchemaChange::Breaking, v("1.4.2"), v("1.5.0")).is_err());
    }

    #[test]
    fn a_breaking_change_with_a_major_bump_is_fine() {
        assert_eq!(
            check_bump(SchemaChange::Breaking, v("0.1.0"), v("0.2.0")),
            Ok(Bump::Major)
        );
        assert_eq!(
            check_bump(SchemaChange::Breaking, v("1.4.2"), v("2.0.0")),
            Ok(Bump::Major)
        );
    }

    #[test]
    fn a_version_going_backwards_is_an_error() {
        assert_eq!(
            check_bump(SchemaChange::Unchanged, v("0.2.0"), v("0.1.9")),
            Err(BumpError::Backwards {
                released: v("0.2.0"),
                current: v("0.1.9")
            })
        );
    }
}
