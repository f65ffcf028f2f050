//! The keywords the checker understands, and every place of a schema that uses one it does
//! not: such a schema is never called compatible.

use serde_json::Value;

use super::finding::{ChangeKind, Finding, Side, child};

/// The draft whose keyword semantics the checker implements.
pub(crate) const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Keywords that do not constrain documents; changing them is not breaking.
const ANNOTATIONS: [&str; 8] = [
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// Stamps the export writes at the root of every schema.
const ROOT_STAMPS: [&str; 3] = ["$schema_id", "$track", "$core_version"];

/// Numeric bounds; their values must be numbers.
pub(crate) const LOWER_BOUNDS: [&str; 5] = [
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
];

/// Numeric bounds; their values must be numbers.
pub(crate) const UPPER_BOUNDS: [&str; 5] = [
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
];

const TYPES: [&str; 7] = [
    "null", "boolean", "object", "array", "number", "integer", "string",
];

/// Every place of `root` (read as the `side` schema) the checker cannot judge: unknown
/// keywords (`allOf`, `not`, `if`, `patternProperties`, `dependentSchemas`, ...), known
/// keywords in a form it does not judge, `$ref`s that are not local or do not resolve, and
/// assertions beside a `$ref`.
pub(crate) fn not_understood(root: &Value, side: Side) -> Vec<Finding> {
    let mut vet = Vet {
        root,
        side,
        found: Vec::new(),
    };
    vet.schema(root, "#", true);
    vet.found
}

struct Vet<'a> {
    root: &'a Value,
    side: Side,
    found: Vec<Finding>,
}

impl Vet<'_> {
    fn reject(&mut self, at: String, keyword: &str, reason: &str) {
        self.found.push(Finding {
            side: self.side,
            at,
            kind: ChangeKind::NotUnderstood {
                keyword: keyword.to_owned(),
                reason: reason.to_owned(),
            },
        });
    }

    fn schema(&mut self, schema: &Value, at: &str, is_root: bool) {
        let map = match schema {
            Value::Bool(_) => return,
            Value::Object(map) => map,
            _ => {
                return self.reject(at.to_owned(), "", "a schema must be an object or a boolean");
            }
        };
        let beside_ref = map.contains_key("$ref");
        for (keyword, value) in map {
            let here = child(at, keyword);
            match keyword.as_str() {
                k if ANNOTATIONS.contains(&k) => {}
                k if is_root && ROOT_STAMPS.contains(&k) => {}
                "$schema" if is_root => {
                    if value.as_str() != Some(DRAFT) {
                        self.reject(here, keyword, "only draft 2020-12 is understood");
                    }
                }
                "$defs" | "definitions" => self.each_in_object(value, &here, keyword),
                "$ref" => self.reference(value, here),
                _ if beside_ref => {
                    self.reject(here, keyword, "assertions beside `$ref` are not understood")
                }
                "type" => self.types(value, here),
                "enum" => {
                    if !value.is_array() {
                        self.reject(here, keyword, "must be an array");
                    }
                }
                "const" => {}
                "properties" => self.each_in_object(value, &here, keyword),
                "required" => {
                    let strings = value
                        .as_array()
                        .is_some_and(|names| names.iter().all(Value::is_string));
                    if !strings {
                        self.reject(here, keyword, "must be an array of strings");
                    }
                }
                "additionalProperties" | "items" => {
                    if value.is_array() {
                        self.reject(here, keyword, "the array (tuple) form is not understood");
                    } else {
                        self.schema(value, &here, false);
                    }
                }
                "anyOf" | "oneOf" => match value.as_array() {
                    Some(branches) if !branches.is_empty() => {
                        for (i, branch) in branches.iter().enumerate() {
                            self.schema(branch, &child(&here, &i.to_string()), false);
                        }
                    }
                    _ => self.reject(here, keyword, "must be a non-empty array of schemas"),
                },
                k if LOWER_BOUNDS.contains(&k) || UPPER_BOUNDS.contains(&k) => {
                    if !value.is_number() {
                        self.reject(here, keyword, "must be a number");
                    }
                }
                "pattern" | "format" => {
                    if !value.is_string() {
                        self.reject(here, keyword, "must be a string");
                    }
                }
                _ => self.reject(
                    here,
                    keyword,
                    "keyword not understood by the compatibility checker, which judges only \
                     type, enum, const, properties, required, additionalProperties, items, \
                     anyOf, oneOf, local $ref, numeric and length bounds, pattern and format",
                ),
            }
        }
    }

    fn each_in_object(&mut self, value: &Value, at: &str, keyword: &str) {
        match value.as_object() {
            Some(map) => {
                for (name, schema) in map {
                    self.schema(schema, &child(at, name), false);
                }
            }
            None => self.reject(at.to_owned(), keyword, "must be an object of schemas"),
        }
    }

    fn reference(&mut self, value: &Value, at: String) {
        let Some(reference) = value.as_str() else {
            return self.reject(at, "$ref", "must be a string");
        };
        match reference.strip_prefix('#') {
            None => self.reject(at, "$ref", "only local references (`#/...`) are understood"),
            Some(pointer) if self.root.pointer(pointer).is_none() => {
                self.reject(at, "$ref", &format!("`{reference}` does not resolve"));
            }
            Some(_) => {}
        }
    }

    fn types(&mut self, value: &Value, at: String) {
        let known = |t: &Value| t.as_str().is_some_and(|t| TYPES.contains(&t));
        let ok = match value {
            Value::String(_) => known(value),
            Value::Array(types) => !types.is_empty() && types.iter().all(known),
            _ => false,
        };
        if !ok {
            self.reject(
                at,
                "type",
                "must be a JSON Schema type name or a non-empty array of them",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rejected(schema: Value) -> Vec<(String, String)> {
        not_understood(&schema, Side::New)
            .into_iter()
            .map(|f| match f.kind {
                ChangeKind::NotUnderstood { keyword, .. } => (f.at, keyword),
                other => panic!("not a vocabulary finding: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_exported_vocabulary_is_understood() {
        let schema = json!({
            "$schema": DRAFT, "$schema_id": "x", "$track": "v1", "$core_version": "0.1.0",
            "title": "T", "description": "d", "type": "object",
            "properties": {
                "a": {"type": ["string", "null"], "minLength": 1, "pattern": "^a", "default": null},
                "b": {"$ref": "#/$defs/B", "description": "b"},
                "c": {"type": "array", "items": {"type": "integer", "format": "uint64", "minimum": 0}},
                "d": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "required": ["a"],
            "additionalProperties": false,
            "$defs": {"B": {"oneOf": [{"const": "x"}, {"type": "string", "enum": ["y"]}]}}
        });
        assert_eq!(rejected(schema), vec![]);
    }

    #[test]
    fn unknown_keywords_are_not_understood_wherever_they_are() {
        for keyword in [
            "allOf",
            "not",
            "if",
            "then",
            "else",
            "patternProperties",
            "dependentSchemas",
            "unevaluatedProperties",
            "x-made-up",
        ] {
            let schema = json!({"type": "object", "properties": {"a": {keyword: {}}}});
            assert_eq!(
                rejected(schema),
                vec![(format!("#/properties/a/{keyword}"), keyword.to_owned())],
                "{keyword}"
            );
        }
    }

    #[test]
    fn keywords_inside_defs_and_branches_are_vetted() {
        let schema = json!({
            "anyOf": [{"type": "string"}, {"allOf": []}],
            "$defs": {"X": {"not": {}}}
        });
        assert_eq!(
            rejected(schema),
            vec![
                ("#/anyOf/1/allOf".to_owned(), "allOf".to_owned()),
                ("#/$defs/X/not".to_owned(), "not".to_owned()),
            ]
        );
    }

    #[test]
    fn root_stamps_are_understood_only_at_the_root() {
        let schema = json!({"properties": {"a": {"$track": "v1", "$schema": DRAFT}}});
        assert_eq!(rejected(schema).len(), 2);
    }

    #[test]
    fn another_draft_is_not_understood() {
        let schema = json!({"$schema": "http://json-schema.org/draft-07/schema#"});
        assert_eq!(
            rejected(schema),
            vec![("#/$schema".to_owned(), "$schema".to_owned())]
        );
    }

    #[test]
    fn remote_dangling_and_decorated_refs_are_not_understood() {
        let schema = json!({"properties": {
            "remote": {"$ref": "other.json#/x"},
            "dangling": {"$ref": "#/$defs/Nope"},
            "decorated": {"$ref": "#/properties/remote", "minimum": 1}
        }});
        assert_eq!(
            rejected(schema),
            vec![
                ("#/properties/remote/$ref".to_owned(), "$ref".to_owned()),
                ("#/properties/dangling/$ref".to_owned(), "$ref".to_owned()),
                (
                    "#/properties/decorated/minimum".to_owned(),
                    "minimum".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn malformed_known_keywords_are_not_understood() {
        let schema = json!({
            "type": "text",
            "enum": "a",
            "required": "a",
            "items": [{"type": "string"}],
            "oneOf": [],
            "minimum": "1",
            "pattern": 1,
            "properties": {"a": 3}
        });
        let keywords: Vec<String> = rejected(schema).into_iter().map(|(_, k)| k).collect();
        assert_eq!(
            keywords,
            [
                "type", "enum", "required", "items", "oneOf", "minimum", "pattern", ""
            ]
        );
    }
}
