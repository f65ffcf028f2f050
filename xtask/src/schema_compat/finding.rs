//! What the checker reports: a change, or a place it cannot judge, at a JSON pointer.

use std::fmt;

use serde_json::Value;

/// How a finding weighs on compatibility, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    /// Documents of the old schema stay valid and readers keep what they rely on; readers
    /// meet new vocabulary (a property, a value, an `anyOf` branch).
    Compatible,
    /// A document of the old schema may be rejected, or a reader loses what it relied on.
    Breaking,
    /// The checker cannot judge this place, so it refuses to call the change compatible.
    NotUnderstood,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Compatible => "compatible",
            Self::Breaking => "breaking",
            Self::NotUnderstood => "not understood",
        })
    }
}

/// Which of the two schemas a pointer points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The schema as it was (the released baseline, or v1).
    Old,
    /// The schema as it is now (the current export, or v2).
    New,
}

/// What was found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ChangeKind {
    /// A property the old schema did not declare.
    PropertyAdded(String),
    /// A value an enumeration did not allow before.
    EnumValueAdded(Value),
    /// A branch of `anyOf` (compatible) or `oneOf` (breaking: an old document may match it
    /// as well as its old branch, and `oneOf` then rejects it) without an old counterpart.
    BranchAdded {
        /// `anyOf` or `oneOf`.
        keyword: &'static str,
        /// Index of the branch in the new schema.
        index: usize,
    },
    /// A property of the old schema is gone.
    RemovedProperty(String),
    /// A property became required.
    NewlyRequired(String),
    /// A required property became optional: readers of the old schema rely on it.
    NoLongerRequired(String),
    /// The set of allowed types lost a member, or a type constraint appeared.
    TypeNarrowed {
        /// Old allowed types (empty: any).
        old: Vec<String>,
        /// New allowed types.
        new: Vec<String>,
    },
    /// An allowed value of an enumeration is gone.
    EnumValueRemoved(Value),
    /// A numeric, length, pattern, format or enumeration bound appeared or became stricter.
    BoundTightened {
        /// The JSON Schema keyword, e.g. `minimum`.
        keyword: &'static str,
        /// Old bound, `null` when absent.
        old: Value,
        /// New bound.
        new: Value,
    },
    /// The new schema is `false`: it rejects every value.
    RejectsEverything,
    /// A branch of the old `anyOf`/`oneOf` that no branch of the new one accepts.
    BranchRemoved {
        /// `anyOf` or `oneOf`.
        keyword: &'static str,
        /// Index of the branch in the old schema.
        index: usize,
    },
    /// An `anyOf`/`oneOf` appeared where the old schema had none: a new constraint.
    UnionAdded(&'static str),
    /// A keyword, or a form of one, the checker does not judge.
    NotUnderstood {
        /// The keyword.
        keyword: String,
        /// Why it cannot be judged.
        reason: String,
    },
}

impl ChangeKind {
    /// How this change weighs.
    pub(crate) fn severity(&self) -> Severity {
        match self {
            Self::PropertyAdded(_) | Self::EnumValueAdded(_) => Severity::Compatible,
            Self::BranchAdded { keyword, .. } if *keyword == "anyOf" => Severity::Compatible,
            Self::NotUnderstood { .. } => Severity::NotUnderstood,
            Self::BranchAdded { .. }
            | Self::RemovedProperty(_)
            | Self::NewlyRequired(_)
            | Self::NoLongerRequired(_)
            | Self::TypeNarrowed { .. }
            | Self::EnumValueRemoved(_)
            | Self::BoundTightened { .. }
            | Self::RejectsEverything
            | Self::BranchRemoved { .. }
            | Self::UnionAdded(_) => Severity::Breaking,
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PropertyAdded(name) => write!(f, "property `{name}` added"),
            Self::EnumValueAdded(value) => write!(f, "value {value} added"),
            Self::BranchAdded { keyword, index } => {
                write!(f, "{keyword} branch {index} added")?;
                if *keyword == "oneOf" {
                    f.write_str(
                        " (an old document may match it as well, and oneOf then rejects it)",
                    )?;
                }
                Ok(())
            }
            Self::RemovedProperty(name) => write!(f, "property `{name}` removed"),
            Self::NewlyRequired(name) => write!(f, "property `{name}` became required"),
            Self::NoLongerRequired(name) => write!(f, "property `{name}` is no longer required"),
            Self::TypeNarrowed { old, new } => {
                let old = if old.is_empty() {
                    "any".to_owned()
                } else {
                    old.join(", ")
                };
                write!(f, "type narrowed from [{old}] to [{}]", new.join(", "))
            }
            Self::EnumValueRemoved(value) => write!(f, "value {value} removed"),
            Self::BoundTightened { keyword, old, new } => {
                write!(f, "`{keyword}` tightened from {old} to {new}")
            }
            Self::RejectsEverything => f.write_str("schema became `false` (rejects every value)"),
            Self::BranchRemoved { keyword, index } => write!(
                f,
                "{keyword} branch {index} removed (no branch of the new schema accepts what it did)"
            ),
            Self::UnionAdded(keyword) => write!(f, "`{keyword}` added, a new constraint"),
            Self::NotUnderstood { keyword, reason } => write!(f, "`{keyword}`: {reason}"),
        }
    }
}

/// One finding at a JSON pointer (`#` fragment form, as `$ref` writes it; `#` is the root).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finding {
    /// The schema the pointer points into: removed things are found in the old one.
    pub(crate) side: Side,
    /// Where, e.g. `#/properties/level`.
    pub(crate) at: String,
    /// What.
    pub(crate) kind: ChangeKind,
}

impl Finding {
    /// How this finding weighs.
    pub(crate) fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Old => "old",
            Side::New => "new",
        };
        write!(
            f,
            "{}: {side} schema at {}: {}",
            self.severity(),
            self.at,
            self.kind
        )
    }
}

/// The pointer `at` extended by one reference token, escaped as RFC 6901 asks.
pub(crate) fn child(at: &str, token: &str) -> String {
    format!("{at}/{}", token.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(child("#/properties", "a/b~c"), "#/properties/a~1b~0c");
    }

    #[test]
    fn a_finding_names_its_severity_side_and_pointer() {
        let finding = Finding {
            side: Side::Old,
            at: "#/properties/size".into(),
            kind: ChangeKind::RemovedProperty("size".into()),
        };
        assert_eq!(
            finding.to_string(),
            "breaking: old schema at #/properties/size: property `size` removed"
        );
    }

    #[test]
    fn an_added_branch_weighs_by_its_keyword() {
        let any = ChangeKind::BranchAdded {
            keyword: "anyOf",
            index: 1,
        };
        let one = ChangeKind::BranchAdded {
            keyword: "oneOf",
            index: 1,
        };
        assert_eq!(any.severity(), Severity::Compatible);
        assert_eq!(one.severity(), Severity::Breaking);
    }
}
