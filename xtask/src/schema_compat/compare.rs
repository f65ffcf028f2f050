//! Compares two JSON Schemas: is `new` a compatible change of `old`?
//!
//! Direction: `old` is what readers and writers were built against, `new` what they are
//! given now. A change is *breaking* when a document an old writer produces may be rejected
//! under `new`, or when a reader of `old` loses what it relied on; *compatible* when readers
//! meet only new vocabulary they are expected to tolerate. Breaking: a removed property, a
//! property that became required or stopped being required, a narrowed or new type, a
//! removed enum value, a bound that appeared or tightened (numeric and length bounds,
//! `pattern`, `format`, `enum`), `additionalProperties` or `items` restricted, a schema that
//! became `false`, a removed `anyOf`/`oneOf` branch, an added `oneOf` branch (an old
//! document may match it as well as its own branch, which `oneOf` rejects) and a new
//! `anyOf`/`oneOf`. Compatible, and named: an added property, an added enum value, an added
//! `anyOf` branch. Old writers are taken to write declared properties only, so declaring a
//! new one under an open `additionalProperties` is compatible. `$ref`s into the document
//! are followed on both sides; recursive schemas are compared once per pair of places.
//!
//! Any keyword outside [`super::vocabulary`] makes the comparison fail as not understood.

use std::collections::HashSet;

use serde_json::Value;

use super::finding::{ChangeKind, Finding, Severity, Side, child};
use super::vocabulary::{LOWER_BOUNDS, UPPER_BOUNDS, not_understood};

/// Every finding from `old` to `new`: what the checker cannot judge in either schema (and
/// then nothing else), or every breaking and named compatible change.
pub(crate) fn compare(old: &Value, new: &Value) -> Vec<Finding> {
    let mut found = not_understood(old, Side::Old);
    found.extend(not_understood(new, Side::New));
    if !found.is_empty() {
        return found;
    }
    let mut walk = Walk {
        old_root: old,
        new_root: new,
        visited: HashSet::new(),
        found: Vec::new(),
    };
    walk.compare(Node::root(old), Node::root(new));
    walk.found
}

/// The schema `true`: what an absent `items` or `additionalProperties` means.
static ANYTHING: Value = Value::Bool(true);

/// How many `$ref`s one place may chain through.
const MAX_REF_CHAIN: usize = 32;

/// A subschema and its pointer in its document.
#[derive(Debug, Clone)]
struct Node<'a> {
    value: &'a Value,
    at: String,
}

impl<'a> Node<'a> {
    fn root(value: &'a Value) -> Self {
        Self {
            value,
            at: "#".to_owned(),
        }
    }

    fn get(&self, keyword: &str) -> Option<&'a Value> {
        self.value.as_object()?.get(keyword)
    }

    /// The subschema under `keyword` (and then `token`, for `properties/name`), or `absent`.
    fn child(&self, keyword: &str, token: Option<&str>, absent: &'a Value) -> Node<'a> {
        let mut at = child(&self.at, keyword);
        let mut value = self.get(keyword);
        if let Some(token) = token {
            at = child(&at, token);
            value = value.and_then(|v| match v {
                Value::Array(items) => token.parse().ok().and_then(|i: usize| items.get(i)),
                _ => v.get(token),
            });
        }
        Node {
            value: value.unwrap_or(absent),
            at,
        }
    }
}

#[derive(Debug)]
struct Walk<'a> {
    old_root: &'a Value,
    new_root: &'a Value,
    /// Pairs of places already compared (or being compared, for recursive schemas).
    visited: HashSet<(String, String)>,
    found: Vec<Finding>,
}

impl<'a> Walk<'a> {
    fn report(&mut self, side: Side, at: &str, kind: ChangeKind) {
        self.found.push(Finding {
            side,
            at: at.to_owned(),
            kind,
        });
    }

    fn compare(&mut self, old: Node<'a>, new: Node<'a>) {
        let (old, new) = match (
            resolve(self.old_root, old, Side::Old),
            resolve(self.new_root, new, Side::New),
        ) {
            (Ok(old), Ok(new)) => (old, new),
            (old, new) => {
                self.found.extend(old.err().map(|f| *f));
                self.found.extend(new.err().map(|f| *f));
                return;
            }
        };
        if !self.visited.insert((old.at.clone(), new.at.clone())) {
            return;
        }
        match (old.value, new.value) {
            (Value::Bool(false), _) | (_, Value::Bool(true)) => return,
            (_, Value::Bool(false)) => {
                return self.report(Side::New, &new.at, ChangeKind::RejectsEverything);
            }
            _ => {}
        }
        self.compare_types(&old, &new);
        let values_judged = self.compare_values(&old, &new);
        self.compare_bounds(&old, &new);
        self.compare_properties(&old, &new);
        for keyword in ["additionalProperties", "items"] {
            if old.get(keyword).is_some() || new.get(keyword).is_some() {
                self.compare(
                    old.child(keyword, None, &ANYTHING),
                    new.child(keyword, None, &ANYTHING),
                );
            }
        }
        if !values_judged {
            for keyword in ["anyOf", "oneOf"] {
                self.compare_union(&old, &new, keyword);
            }
        }
    }

    fn compare_types(&mut self, old: &Node<'a>, new: &Node<'a>) {
        let Some(new_types) = types(new) else { return };
        let still_allowed = |t: &String| {
            new_types.contains(t) || (t == "integer" && new_types.iter().any(|n| n == "number"))
        };
        let old_types = types(old);
        let narrowed = match &old_types {
            None => true,
            Some(old_types) => !old_types.iter().all(still_allowed),
        };
        if narrowed {
            self.report(
                Side::New,
                &new.at,
                ChangeKind::TypeNarrowed {
                    old: old_types.unwrap_or_default(),
                    new: new_types,
                },
            );
        }
    }

    /// Judges enumerations (`enum`, `const`, or unions of those); true when `new` is one,
    /// so its branches need no other judgement.
    fn compare_values(&mut self, old: &Node<'a>, new: &Node<'a>) -> bool {
        let Some(new_values) = allowed_values(new.value) else {
            return false;
        };
        match allowed_values(old.value) {
            Some(old_values) => {
                for value in old_values.iter().filter(|v| !new_values.contains(v)) {
                    self.report(
                        Side::New,
                        &new.at,
                        ChangeKind::EnumValueRemoved(value.clone()),
                    );
                }
                for value in new_values.iter().filter(|v| !old_values.contains(v)) {
                    self.report(
                        Side::New,
                        &new.at,
                        ChangeKind::EnumValueAdded(value.clone()),
                    );
                }
            }
            None => self.report(
                Side::New,
                &new.at,
                ChangeKind::BoundTightened {
                    keyword: "enum",
                    old: Value::Null,
                    new: Value::Array(new_values),
                },
            ),
        }
        true
    }

    fn compare_bounds(&mut self, old: &Node<'a>, new: &Node<'a>) {
        for (keywords, stricter) in [
            (&LOWER_BOUNDS, greater as fn(f64, f64) -> bool),
            (&UPPER_BOUNDS, less),
        ] {
            for keyword in keywords.iter().copied() {
                let Some(bound) = new.get(keyword).and_then(Value::as_f64) else {
                    continue;
                };
                let before = old.get(keyword).and_then(Value::as_f64);
                if before.is_none_or(|before| stricter(bound, before)) {
                    self.tightened(old, new, keyword);
                }
            }
        }
        for keyword in ["pattern", "format"] {
            if new
                .get(keyword)
                .is_some_and(|n| old.get(keyword) != Some(n))
            {
                self.tightened(old, new, keyword);
            }
        }
    }

    fn tightened(&mut self, old: &Node<'a>, new: &Node<'a>, keyword: &'static str) {
        let kind = ChangeKind::BoundTightened {
            keyword,
            old: old.get(keyword).cloned().unwrap_or(Value::Null),
            new: new.get(keyword).cloned().unwrap_or(Value::Null),
        };
        self.report(Side::New, &child(&new.at, keyword), kind);
    }

    fn compare_properties(&mut self, old: &Node<'a>, new: &Node<'a>) {
        let old_props = old.get("properties").and_then(Value::as_object);
        let new_props = new.get("properties").and_then(Value::as_object);
        for name in old_props.into_iter().flat_map(|p| p.keys()) {
            let old_prop = old.child("properties", Some(name), &ANYTHING);
            if new_props.is_some_and(|p| p.contains_key(name)) {
                self.compare(old_prop, new.child("properties", Some(name), &ANYTHING));
            } else {
                let kind = ChangeKind::RemovedProperty(name.clone());
                self.report(Side::Old, &old_prop.at, kind);
            }
        }
        let declared_before = |name: &String| old_props.is_some_and(|p| p.contains_key(name));
        for name in new_props.into_iter().flat_map(|p| p.keys()) {
            if declared_before(name) {
                continue;
            }
            let new_prop = new.child("properties", Some(name), &ANYTHING);
            self.report(
                Side::New,
                &new_prop.at,
                ChangeKind::PropertyAdded(name.clone()),
            );
            // Old writers may have written it under a schema of additional properties.
            if old
                .get("additionalProperties")
                .is_some_and(Value::is_object)
            {
                self.compare(old.child("additionalProperties", None, &ANYTHING), new_prop);
            }
        }
        let old_required = names(old.get("required"));
        let new_required = names(new.get("required"));
        for name in new_required.iter().filter(|n| !old_required.contains(n)) {
            let kind = ChangeKind::NewlyRequired(name.clone());
            self.report(Side::New, &child(&new.at, "required"), kind);
        }
        let still_declared = |name: &String| new_props.is_some_and(|p| p.contains_key(name));
        for name in old_required
            .iter()
            .filter(|n| !new_required.contains(n) && still_declared(n))
        {
            let kind = ChangeKind::NoLongerRequired(name.clone());
            self.report(Side::Old, &child(&old.at, "required"), kind);
        }
    }

    fn compare_union(&mut self, old: &Node<'a>, new: &Node<'a>, keyword: &'static str) {
        let branches = |node: &Node<'a>| node.get(keyword).and_then(Value::as_array).map(Vec::len);
        match (branches(old), branches(new)) {
            // No union, or one dropped: a constraint fewer.
            (_, None) => {}
            (None, Some(_)) => {
                let at = child(&new.at, keyword);
                self.report(Side::New, &at, ChangeKind::UnionAdded(keyword));
            }
            (Some(old_len), Some(new_len)) if old_len == new_len => {
                for i in 0..old_len {
                    let token = i.to_string();
                    self.compare(
                        old.child(keyword, Some(&token), &ANYTHING),
                        new.child(keyword, Some(&token), &ANYTHING),
                    );
                }
            }
            (Some(old_len), Some(new_len)) => {
                self.match_branches(old, new, keyword, old_len, new_len)
            }
        }
    }

    /// Pairs every old branch with the first unpaired new branch that is a compatible change
    /// of it; an old branch without a partner was removed, a new one without a partner added.
    fn match_branches(
        &mut self,
        old: &Node<'a>,
        new: &Node<'a>,
        keyword: &'static str,
        old_len: usize,
        new_len: usize,
    ) {
        let mut paired = vec![false; new_len];
        for i in 0..old_len {
            let old_branch = old.child(keyword, Some(&i.to_string()), &ANYTHING);
            let partner = (0..new_len).filter(|j| !paired[*j]).find_map(|j| {
                let new_branch = new.child(keyword, Some(&j.to_string()), &ANYTHING);
                let trial = self.trial(old_branch.clone(), new_branch);
                let compatible = trial
                    .found
                    .iter()
                    .all(|f| f.severity() == Severity::Compatible);
                compatible.then_some((j, trial))
            });
            match partner {
                Some((j, trial)) => {
                    paired[j] = true;
                    self.visited = trial.visited;
                    self.found.extend(trial.found);
                }
                None => {
                    let kind = ChangeKind::BranchRemoved { keyword, index: i };
                    self.report(Side::Old, &old_branch.at, kind);
                }
            }
        }
        for (j, _) in paired.iter().enumerate().filter(|(_, p)| !**p) {
            let at = child(&child(&new.at, keyword), &j.to_string());
            self.report(
                Side::New,
                &at,
                ChangeKind::BranchAdded { keyword, index: j },
            );
        }
    }

    /// Compares a pair on the side, without reporting.
    fn trial(&self, old: Node<'a>, new: Node<'a>) -> Walk<'a> {
        let mut trial = Walk {
            old_root: self.old_root,
            new_root: self.new_root,
            visited: self.visited.clone(),
            found: Vec::new(),
        };
        trial.compare(old, new);
        trial
    }
}

fn greater(a: f64, b: f64) -> bool {
    a > b
}

fn less(a: f64, b: f64) -> bool {
    a < b
}

/// Follows local `$ref`s from `node` to the schema they name.
fn resolve<'a>(root: &'a Value, mut node: Node<'a>, side: Side) -> Result<Node<'a>, Box<Finding>> {
    for _ in 0..MAX_REF_CHAIN {
        let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
            return Ok(node);
        };
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer));
        match target {
            Some(value) => {
                node = Node {
                    value,
                    at: reference.to_owned(),
                }
            }
            None => {
                return Err(unresolved(side, node.at, "does not resolve"));
            }
        }
    }
    Err(unresolved(
        side,
        node.at,
        "chains through too many `$ref`s (a cycle?)",
    ))
}

fn unresolved(side: Side, at: String, reason: &str) -> Box<Finding> {
    Box::new(Finding {
        side,
        at,
        kind: ChangeKind::NotUnderstood {
            keyword: "$ref".to_owned(),
            reason: reason.to_owned(),
        },
    })
}

fn types(node: &Node<'_>) -> Option<Vec<String>> {
    match node.get("type")? {
        Value::String(t) => Some(vec![t.clone()]),
        Value::Array(ts) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

/// The values an enumeration allows: `enum`, `const`, or a `oneOf`/`anyOf` of those.
fn allowed_values(schema: &Value) -> Option<Vec<Value>> {
    let schema = schema.as_object()?;
    if let Some(Value::Array(values)) = schema.get("enum") {
        return Some(values.clone());
    }
    if let Some(value) = schema.get("const") {
        return Some(vec![value.clone()]);
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(Value::Array(branches)) = schema.get(keyword) {
            let mut values = Vec::new();
            for branch in branches {
                values.extend(allowed_values(branch)?);
            }
            return Some(values);
        }
    }
    None
}

fn names(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
