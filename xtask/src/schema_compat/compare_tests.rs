//! One test per rule of [`super::compare`]: each fails when its rule is gone.

use serde_json::{Value, json};

use super::compare::compare;
use super::finding::{ChangeKind, Finding, Severity, Side};

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
    compare(old, new).into_iter().map(|f| f.kind).collect()
}

fn one(old: &Value, new: &Value) -> Finding {
    let found = compare(old, new);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.into_iter().next().expect("one finding")
}

#[test]
fn identical_schemas_have_no_findings() {
    assert_eq!(compare(&base(), &base()), vec![]);
}

#[test]
fn annotations_may_change() {
    let mut new = base();
    new["description"] = json!("now documented");
    new["properties"]["id"]["title"] = json!("Id");
    assert_eq!(compare(&base(), &new), vec![]);
}

#[test]
fn an_added_optional_property_is_compatible_and_named() {
    let mut new = base();
    new["properties"]["note"] = json!({"type": ["string", "null"]});
    let found = one(&base(), &new);
    assert_eq!(found.kind, ChangeKind::PropertyAdded("note".into()));
    assert_eq!(found.severity(), Severity::Compatible);
    assert_eq!(
        (found.side, found.at.as_str()),
        (Side::New, "#/properties/note")
    );
}

#[test]
fn an_added_property_must_accept_what_additional_properties_allowed() {
    let old = json!({"type": "object", "additionalProperties": {"type": "string"}});
    let new = json!({
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "additionalProperties": {"type": "string"}
    });
    assert_eq!(
        kinds(&old, &new),
        vec![
            ChangeKind::PropertyAdded("n".into()),
            ChangeKind::TypeNarrowed {
                old: vec!["string".into()],
                new: vec!["integer".into()]
            }
        ]
    );
}

#[test]
fn widening_types_and_bounds_is_compatible() {
    let mut new = base();
    new["properties"]["size"] = json!({"type": "number", "minimum": 0});
    new["properties"]["id"]["minLength"] = json!(0);
    assert_eq!(compare(&base(), &new), vec![]);
}

#[test]
fn an_added_enum_value_is_compatible_and_named() {
    let mut new = base();
    new["$defs"]["Level"]["enum"] = json!(["ok", "soft", "hard", "halt"]);
    let found = one(&base(), &new);
    assert_eq!(found.kind, ChangeKind::EnumValueAdded(json!("halt")));
    assert_eq!(found.at, "#/$defs/Level");
}

#[test]
fn catches_a_removed_property_in_the_old_schema() {
    let mut new = base();
    new["properties"].as_object_mut().map(|p| p.remove("size"));
    let found = one(&base(), &new);
    assert_eq!(found.kind, ChangeKind::RemovedProperty("size".into()));
    assert_eq!(
        (found.side, found.at.as_str()),
        (Side::Old, "#/properties/size")
    );
}

#[test]
fn catches_a_newly_required_property() {
    let mut new = base();
    new["required"] = json!(["id", "level"]);
    let found = one(&base(), &new);
    assert_eq!(found.kind, ChangeKind::NewlyRequired("level".into()));
    assert_eq!(found.at, "#/required");
}

#[test]
fn catches_a_property_no_longer_required() {
    let mut new = base();
    new["required"] = json!([]);
    assert_eq!(
        kinds(&base(), &new),
        vec![ChangeKind::NoLongerRequired("id".into())]
    );
}

#[test]
fn catches_a_changed_type() {
    let mut new = base();
    new["properties"]["id"]["type"] = json!("integer");
    let found = one(&base(), &new);
    assert_eq!(
        found.kind,
        ChangeKind::TypeNarrowed {
            old: vec!["string".into()],
            new: vec!["integer".into()]
        }
    );
    assert_eq!(found.at, "#/properties/id");
}

#[test]
fn catches_a_narrowed_type() {
    assert_eq!(
        compare(
            &json!({"type": ["string", "null"]}),
            &json!({"type": "string"})
        )
        .len(),
        1
    );
    assert_eq!(
        compare(&json!({"type": "number"}), &json!({"type": "integer"})).len(),
        1
    );
}

#[test]
fn catches_a_removed_enum_value_behind_a_ref() {
    let mut new = base();
    new["$defs"]["Level"]["enum"] = json!(["ok", "hard"]);
    let found = one(&base(), &new);
    assert_eq!(found.kind, ChangeKind::EnumValueRemoved(json!("soft")));
    assert_eq!(found.at, "#/$defs/Level");
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
fn a_new_enum_restriction_is_a_tightening() {
    let old = json!({"type": "string"});
    let new = json!({"type": "string", "enum": ["a"]});
    assert!(matches!(
        kinds(&old, &new)[..],
        [ChangeKind::BoundTightened {
            keyword: "enum",
            ..
        }]
    ));
}

#[test]
fn catches_tightened_bounds_and_formats() {
    for (field, keyword, value) in [
        ("size", "minimum", json!(1)),
        ("size", "maximum", json!(50)),
        ("size", "exclusiveMaximum", json!(100)),
        ("size", "format", json!("uint8")),
        ("id", "minLength", json!(2)),
        ("id", "maxLength", json!(10)),
        ("id", "pattern", json!("^[a-z]+$")),
    ] {
        let mut new = base();
        new["properties"][field][keyword] = value.clone();
        let found = one(&base(), &new);
        assert!(
            matches!(&found.kind, ChangeKind::BoundTightened { keyword: k, new: v, .. } if *k == keyword && *v == value),
            "{keyword}: {found:?}"
        );
        assert_eq!(found.at, format!("#/properties/{field}/{keyword}"));
    }
}

#[test]
fn catches_closed_additional_properties() {
    let mut new = base();
    new["additionalProperties"] = json!(false);
    let found = one(&base(), &new);
    assert_eq!(found.kind, ChangeKind::RejectsEverything);
    assert_eq!(found.at, "#/additionalProperties");
}

#[test]
fn catches_restricted_additional_properties_and_items() {
    let old = json!({"type": "object", "additionalProperties": {"type": ["string", "integer"]}});
    let new = json!({"type": "object", "additionalProperties": {"type": "string"}});
    assert_eq!(one(&old, &new).at, "#/additionalProperties");
    let old = json!({"type": "array"});
    let new = json!({"type": "array", "items": {"type": "string"}});
    assert_eq!(one(&old, &new).at, "#/items");
}

#[test]
fn a_removed_any_of_branch_is_breaking() {
    let old = json!({"anyOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}]});
    let new = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
    let found = one(&old, &new);
    assert_eq!(
        found.kind,
        ChangeKind::BranchRemoved {
            keyword: "anyOf",
            index: 1
        }
    );
    assert_eq!((found.side, found.at.as_str()), (Side::Old, "#/anyOf/1"));
}

#[test]
fn a_removed_one_of_branch_is_breaking() {
    let old = json!({"oneOf": [{"type": "string"}, {"type": "object"}]});
    let new = json!({"oneOf": [{"type": "object"}]});
    assert_eq!(
        kinds(&old, &new),
        vec![ChangeKind::BranchRemoved {
            keyword: "oneOf",
            index: 0
        }]
    );
}

#[test]
fn an_added_any_of_branch_is_compatible_and_named() {
    let old = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
    let new = json!({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]});
    let found = one(&old, &new);
    assert_eq!(
        found.kind,
        ChangeKind::BranchAdded {
            keyword: "anyOf",
            index: 0
        }
    );
    assert_eq!(found.severity(), Severity::Compatible);
    assert_eq!(found.at, "#/anyOf/0");
}

#[test]
fn an_added_one_of_branch_is_breaking() {
    let old = json!({"oneOf": [{"type": "string"}]});
    let new = json!({"oneOf": [{"type": "string"}, {"type": "string", "maxLength": 3}]});
    let found = one(&old, &new);
    assert_eq!(found.severity(), Severity::Breaking);
    assert_eq!(found.at, "#/oneOf/1");
}

#[test]
fn a_changed_branch_among_added_ones_is_not_taken_as_compatible() {
    let old = json!({"anyOf": [{"type": "string", "maxLength": 9}, {"type": "null"}]});
    let new = json!({"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}, {"type": "integer"}]});
    assert_eq!(
        kinds(&old, &new),
        vec![
            ChangeKind::BranchRemoved {
                keyword: "anyOf",
                index: 0
            },
            ChangeKind::BranchAdded {
                keyword: "anyOf",
                index: 0
            },
            ChangeKind::BranchAdded {
                keyword: "anyOf",
                index: 2
            },
        ]
    );
}

#[test]
fn branches_of_equal_count_are_compared_in_place() {
    let old = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
    let new = json!({"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}]});
    assert_eq!(one(&old, &new).at, "#/anyOf/0/minLength");
}

#[test]
fn a_new_union_is_a_constraint() {
    let old = json!({"type": "string"});
    let new = json!({"type": "string", "anyOf": [{"minLength": 1}, {"maxLength": 0}]});
    assert_eq!(kinds(&old, &new), vec![ChangeKind::UnionAdded("anyOf")]);
}

#[test]
fn a_schema_that_became_false_rejects_everything() {
    let mut new = base();
    new["properties"]["id"] = json!(false);
    assert_eq!(kinds(&base(), &new), vec![ChangeKind::RejectsEverything]);
}

#[test]
fn keywords_not_understood_fail_the_comparison() {
    let mut new = base();
    new["properties"]["id"]["allOf"] = json!([{"type": "string"}]);
    let found = one(&base(), &new);
    assert_eq!(found.severity(), Severity::NotUnderstood);
    assert_eq!(
        (found.side, found.at.as_str()),
        (Side::New, "#/properties/id/allOf")
    );
    let found = one(&new, &base());
    assert_eq!(found.side, Side::Old);
}

#[test]
fn recursive_schemas_are_compared_once() {
    let tree = json!({
        "$ref": "#/$defs/Node",
        "$defs": {"Node": {"type": "object", "properties": {
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
        }}}
    });
    assert_eq!(compare(&tree, &tree), vec![]);
    let mut new = tree.clone();
    new["$defs"]["Node"]["properties"]["name"] = json!({"type": "string"});
    assert_eq!(one(&tree, &new).at, "#/$defs/Node/properties/name");
}

#[test]
fn a_ref_cycle_is_not_understood() {
    let cycle = json!({"$ref": "#/$defs/A", "$defs": {"A": {"$ref": "#/$defs/A"}}});
    let found = compare(&cycle, &cycle);
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|f| f.severity() == Severity::NotUnderstood),
        "{found:#?}"
    );
}
