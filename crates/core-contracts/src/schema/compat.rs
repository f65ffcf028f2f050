//! Backward-compatibility checker for JSON Schemas: may a reader of `old` documents safely
//! be given documents valid under `new`, and is every `old` document valid under `new`?
//!
//! A change is breaking when it removes a property, makes a property newly required,
//! changes or narrows a type, removes an enum value, tightens a bound, or closes additional
//! properties. `$ref`s into `$defs` are followed on both sides.

use serde_json::{Map, Value};

/// What kind of breaking change was found.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// A property of the old schema is gone.
    RemovedProperty(String),
    /// A property became required.
    NewlyRequired(String),
    /// The set of allowed types lost a member, or a type constraint appeared.
    TypeNarrowed {
        /// Old allowed types (empty: any).
        old: Vec<String>,
        /// New allowed types.
        new: Vec<String>,
    },
    /// An allowed value of an enumeration is gone.
    EnumValueRemoved(Value),
    /// A numeric, length or pattern bound became stricter.
    BoundTightened {
        /// The JSON Schema keyword, e.g. `minimum`.
        keyword: &'static str,
        /// Old bound, `null` when absent.
        old: Value,
        /// New bound.
        new: Value,
    },
    /// `additionalProperties` went from allowed to forbidden.
    AdditionalPropertiesClosed,
}

/// One breaking change at a JSON path of the schema (`$` is the root).
#[derive(Debug, Clone, PartialEq)]
pub struct BreakingChange {
    /// Where, e.g. `$.properties.level`.
    pub path: String,
    /// What.
    pub kind: ChangeKind,
}

/// Every breaking change from `old` to `new`; empty when `new` is backward compatible.
///
/// ```
/// use core_contracts::schema::breaking_changes;
/// use serde_json::json;
/// let old = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
/// let new = json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}});
/// assert!(breaking_changes(&old, &new).is_empty());
/// assert_eq!(breaking_changes(&new, &old).len(), 1);
/// ```
pub fn breaking_changes(old: &Value, new: &Value) -> Vec<BreakingChange> {
    let mut walk = Walk {
        old_root: old,
        new_root: new,
        found: Vec::new(),
    };
    walk.compare(old, new, "$".to_owned(), 0);
    walk.found
}

const MAX_DEPTH: usize = 64;

const LOWER_BOUNDS: [&str; 5] = [
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
];
const UPPER_BOUNDS: [&str; 5] = [
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
];

struct Walk<'a> {
    old_root: &'a Value,
    new_root: &'a Value,
    found: Vec<BreakingChange>,
}

impl<'a> Walk<'a> {
    fn report(&mut self, path: &str, kind: ChangeKind) {
        self.found.push(BreakingChange {
            path: path.to_owned(),
            kind,
        });
    }

    fn compare(&mut self, old: &'a Value, new: &'a Value, path: String, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let old = resolve(self.old_root, old);
        let new = resolve(self.new_root, new);
        let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
            if old.as_bool() != Some(false) && new.as_bool() == Some(false) {
                self.report(
                    &path,
                    ChangeKind::TypeNarrowed {
                        old: vec![],
                        new: vec!["never".into()],
                    },
                );
            }
            return;
        };
        self.compare_types(o, n, &path);
        self.compare_values(o, n, &path);
        self.compare_bounds(o, n, &path);
        self.compare_properties(o, n, &path, depth);
        if let (Some(oi), Some(ni)) = (o.get("items"), n.get("items")) {
            self.compare(oi, ni, format!("{path}.items"), depth + 1);
        }
        for keyword in ["anyOf", "oneOf"] {
            if let (Some(Value::Array(ob)), Some(Value::Array(nb))) =
                (o.get(keyword), n.get(keyword))
                && ob.len() == nb.len()
            {
                for (i, (ob, nb)) in ob.iter().zip(nb).enumerate() {
                    self.compare(ob, nb, format!("{path}.{keyword}[{i}]"), depth + 1);
                }
            }
        }
    }

    fn compare_types(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, path: &str) {
        let old_types = types(o);
        let new_types = types(n);
        let Some(new_types) = new_types else { return };
        let still_allowed = |t: &String| {
            new_types.contains(t) || (t == "integer" && new_types.iter().any(|n| n == "number"))
        };
        let narrowed = match &old_types {
            None => true,
            Some(old_types) => !old_types.iter().all(still_allowed),
        };
        if narrowed {
            self.report(
                path,
                ChangeKind::TypeNarrowed {
                    old: old_types.unwrap_or_default(),
                    new: new_types,
                },
            );
        }
    }

    fn compare_values(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, path: &str) {
        let Some(new_values) = allowed_values(n) else {
            return;
        };
        match allowed_values(o) {
            Some(old_values) => {
                for value in old_values.into_iter().filter(|v| !new_values.contains(v)) {
                    self.report(path, ChangeKind::EnumValueRemoved(value));
                }
            }
            None => self.report(
                path,
                ChangeKind::BoundTightened {
                    keyword: "enum",
                    old: Value::Null,
                    new: Value::Array(new_values),
                },
            ),
        }
    }

    fn compare_bounds(&mut self, o: &Map<String, Value>, n: &Map<String, Value>, path: &str) {
        for (keywords, stricter) in [
            (&LOWER_BOUNDS, greater as fn(f64, f64) -> bool),
            (&UPPER_BOUNDS, less),
        ] {
            for keyword in keywords.iter().copied() {
                let Some(new) = n.get(keyword).and_then(Value::as_f64) else {
                    continue;
                };
                let old = o.get(keyword).and_then(Value::as_f64);
                if old.is_none_or(|old| stricter(new, old)) {
                    self.report(
                        path,
                        ChangeKind::BoundTightened {
                            keyword,
                            old: o.get(keyword).cloned().unwrap_or(Value::Null),
                            new: n[keyword].clone(),
                        },
                    );
                }
            }
        }
        if let Some(new) = n.get("pattern")
            && o.get("pattern") != Some(new)
        {
            self.report(
                path,
                ChangeKind::BoundTightened {
                    keyword: "pattern",
                    old: o.get("pattern").cloned().unwrap_or(Value::Null),
                    new: new.clone(),
                },
            );
        }
        let open = |m: &Map<String, Value>| {
            m.get("additionalProperties")
                .is_none_or(|v| v != &Value::Bool(false))
        };
        if open(o) && !open(n) {
            self.report(path, ChangeKind::AdditionalPropertiesClosed);
        }
    }

    fn compare_properties(
        &mut self,
        o: &'a Map<String, Value>,
        n: &'a Map<String, Value>,
        path: &str,
        depth: usize,
    ) {
        let old_props = o.get("properties").and_then(Value::as_object);
        let new_props = n.get("properties").and_then(Value::as_object);
        for (name, old_schema) in old_props.into_iter().flatten() {
            match new_props.and_then(|p| p.get(name)) {
                None => self.report(path, ChangeKind::RemovedProperty(name.clone())),
                Some(new_schema) => {
                    self.compare(
                        old_schema,
                        new_schema,
                        format!("{path}.properties.{name}"),
                        depth + 1,
                    );
                }
            }
        }
        let old_required = names(o.get("required"));
        for name in names(n.get("required")) {
            if !old_required.contains(&name) {
                self.report(path, ChangeKind::NewlyRequired(name));
            }
        }
    }
}

fn greater(a: f64, b: f64) -> bool {
    a > b
}

fn less(a: f64, b: f64) -> bool {
    a < b
}

/// Follows a local `$ref` (`#/$defs/Name` or `#/definitions/Name`) against `root`.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..MAX_DEPTH {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return current;
        };
        let Some(pointer) = reference.strip_prefix('#') else {
            return current;
        };
        match root.pointer(pointer) {
            Some(target) => current = target,
            None => return current,
        }
    }
    current
}

fn types(schema: &Map<String, Value>) -> Option<Vec<String>> {
    match schema.get("type")? {
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
fn allowed_values(schema: &Map<String, Value>) -> Option<Vec<Value>> {
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
                values.extend(allowed_values(branch.as_object()?)?);
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn base() -> Value {
        json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "size": {"type": "integer", "minimum": 0, "maximum": 100},
                "level": {"$ref": "#/$defs/Level"}
            },
            "required": ["id"],
            "$defs": {"Level": {"type": "string", "enum": ["ok", "soft", "hard"]}}
        })
    }

    fn kinds(old: &Value, new: &Value) -> Vec<ChangeKind> {
        breaking_changes(old, new)
            .into_iter()
            .map(|c| c.kind)
            .collect()
    }

    #[test]
    fn identical_schemas_are_compatible() {
        assert!(breaking_changes(&base(), &base()).is_empty());
    }

    #[test]
    fn adding_an_optional_property_is_compatible() {
        let mut new = base();
        new["properties"]["note"] = json!({"type": ["string", "null"]});
        assert!(breaking_changes(&base(), &new).is_empty());
    }

    #[test]
    fn widening_is_compatible() {
        let mut new = base();
        new["properties"]["size"] = json!({"type": "number", "minimum": 0});
        new["$defs"]["Level"]["enum"] = json!(["ok", "soft", "hard", "halt"]);
        assert!(
            breaking_changes(&base(), &new).is_empty(),
            "{:?}",
            breaking_changes(&base(), &new)
        );
    }

    #[test]
    fn catches_a_removed_property() {
        let mut new = base();
        new["properties"].as_object_mut().map(|p| p.remove("size"));
        assert_eq!(
            kinds(&base(), &new),
            vec![ChangeKind::RemovedProperty("size".into())]
        );
    }

    #[test]
    fn catches_a_newly_required_property() {
        let mut new = base();
        new["required"] = json!(["id", "level"]);
        assert_eq!(
            kinds(&base(), &new),
            vec![ChangeKind::NewlyRequired("level".into())]
        );
    }

    #[test]
    fn catches_a_changed_type() {
        let mut new = base();
        new["properties"]["id"]["type"] = json!("integer");
        assert_eq!(
            kinds(&base(), &new),
            vec![ChangeKind::TypeNarrowed {
                old: vec!["string".into()],
                new: vec!["integer".into()]
            }]
        );
    }

    #[test]
    fn catches_a_narrowed_type() {
        let old = json!({"type": ["string", "null"]});
        let new = json!({"type": "string"});
        assert_eq!(breaking_changes(&old, &new).len(), 1);
        let old = json!({"type": "number"});
        let new = json!({"type": "integer"});
        assert_eq!(breaking_changes(&old, &new).len(), 1);
    }

    #[test]
    fn catches_a_removed_enum_value_behind_a_ref() {
        let mut new = base();
        new["$defs"]["Level"]["enum"] = json!(["ok", "hard"]);
        let found = breaking_changes(&base(), &new);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, ChangeKind::EnumValueRemoved(json!("soft")));
        assert_eq!(found[0].path, "$.properties.level");
    }

    #[test]
    fn catches_a_removed_one_of_const() {
        let old = json!({"oneOf": [{"const": "v1"}, {"const": "v2"}]});
        let new = json!({"oneOf": [{"const": "v1"}]});
        assert_eq!(
            kinds(&old, &new),
            vec![ChangeKind::EnumValueRemoved(json!("v2"))]
        );
    }

    #[test]
    fn catches_tightened_bounds() {
        for (field, keyword, value) in [
            ("size", "minimum", json!(1)),
            ("size", "maximum", json!(50)),
            ("id", "minLength", json!(2)),
            ("id", "maxLength", json!(10)),
            ("id", "pattern", json!("^[a-z]+$")),
        ] {
            let mut new = base();
            new["properties"][field][keyword] = value.clone();
            let found = kinds(&base(), &new);
            assert_eq!(found.len(), 1, "{keyword}: {found:?}");
            assert!(
                matches!(&found[0], ChangeKind::BoundTightened { keyword: k, new: v, .. } if *k == keyword && *v == value),
                "{keyword}: {found:?}"
            );
        }
    }

    #[test]
    fn catches_closed_additional_properties() {
        let mut new = base();
        new["additionalProperties"] = json!(false);
        assert_eq!(
            kinds(&base(), &new),
            vec![ChangeKind::AdditionalPropertiesClosed]
        );
    }

    #[test]
    fn a_new_enum_restriction_is_a_tightening() {
        let old = json!({"type": "string"});
        let new = json!({"type": "string", "enum": ["a"]});
        assert_eq!(breaking_changes(&old, &new).len(), 1);
    }
}
