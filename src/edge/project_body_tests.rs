use serde_json::{Value, json};

use super::*;
use crate::edge::schema::schema_for;
use crate::governance::evidence::EVIDENCE_FIELDS;
use crate::governance::{Classification, DataClass};
use crate::registry::input::{CheckedNew, CheckedPatch};

/// A REST body as the door parses it, then the use case's own checks.
fn new(body: Value) -> Result<CheckedNew> {
    let Value::Object(raw) = body else {
        panic!("an object")
    };
    new_project(raw)?.check()
}

fn patch(body: Value) -> Result<CheckedPatch> {
    let Value::Object(raw) = body else {
        panic!("an object")
    };
    project_patch(raw)?.check()
}

#[test]
fn runbook_body() {
    let n = new(json!({"name":"Pilot","owner_email":"Owner@corp.example","manager_email":"mgr@corp.example","group":"platform","budget_usd":100})).unwrap();
    assert_eq!(n.budget_cents, 10_000);
    assert_eq!(n.classification, Classification::Poc);
    assert_eq!(n.data_class, DataClass::Internal);
    assert_eq!(n.owner_email.as_deref(), Some("owner@corp.example"));
}

#[test]
fn null_is_absent_on_registration() {
    let n = new(
        json!({"name":"Pilot","owner_email":null,"group":null,"budget_usd":null,
                       "classification":null,"data_class":null,"description":null,
                       "runbook_url":null}),
    )
    .unwrap();
    assert_eq!(n.owner_email, None);
    assert_eq!(n.budget_cents, 0);
    assert!(n.evidence.is_empty());
}

#[test]
fn errors_name_fields() {
    let f = |b: Value| new(b).unwrap_err().field().unwrap_or_default().to_string();
    assert_eq!(f(json!({"owner_email":"a@b.c"})), "name");
    assert_eq!(f(json!({"name": 5})), "name");
    assert_eq!(f(json!({"name": null})), "name");
    assert_eq!(f(json!({"name": "   "})), "name");
    assert_eq!(f(json!({"name":"P","budget_usd":-1})), "budget_usd");
    assert_eq!(f(json!({"name":"P","budget_usd":1e12})), "budget_usd");
    assert_eq!(f(json!({"name":"P","budget_usd":"100"})), "budget_usd");
    assert_eq!(f(json!({"name":"P","owner_email":"nope"})), "owner_email");
    assert_eq!(f(json!({"name":"P","colour":"red"})), "colour");
    assert_eq!(f(json!({"name":"P","data_class":"secret"})), "data_class");
    assert_eq!(f(json!({"name":"P","evidence":"x"})), "evidence");
    assert_eq!(f(json!({"name":"P","evidence":null})), "evidence");
    assert_eq!(
        f(json!({"name":"P","evidence":"x","runbook_url":"https://r.example"})),
        "evidence"
    );
    // Evidence is named the same at the top level and nested.
    for b in [
        json!({"name":"P","runbook_url":"ftp://x"}),
        json!({"name":"P","runbook_url":5}),
        json!({"name":"P","evidence":{"runbook_url":"ftp://x"}}),
    ] {
        assert_eq!(f(b), "evidence.runbook_url");
    }
    assert_eq!(
        f(json!({"name":"P","evidence":{"shoe_size":"42"}})),
        "evidence.shoe_size"
    );
    assert_eq!(
        f(json!({"name":"P","classification":"gold"})),
        "classification"
    );
    assert_eq!(
        f(json!({"name":"P","classification":"critical-path"})),
        "classification"
    );
}

#[test]
fn evidence_at_the_top_level_and_nested_merge() {
    let n = new(json!({"name":"P","runbook_url":" https://r.example ",
                       "evidence":{"business_owner":"Ann"}}))
    .unwrap();
    assert_eq!(n.evidence["runbook_url"], json!("https://r.example"));
    assert_eq!(n.evidence["business_owner"], json!("Ann"));
}

#[test]
fn patch_merges() {
    let p = patch(json!({"budget_usd": 5, "evidence": {"runbook_url": null}, "description": null}))
        .unwrap();
    assert_eq!(p.budget_cents, Some(500));
    assert_eq!(p.evidence, vec![("runbook_url".to_string(), None)]);
    assert_eq!(p.description, Some(None));
    let f = |b: Value| {
        patch(b)
            .unwrap_err()
            .field()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(f(json!({"classification":"poc"})), "classification");
    assert_eq!(f(json!({"manager_email": null})), "manager_email");
    assert_eq!(f(json!({"budget_usd": null})), "budget_usd");
    assert_eq!(f(json!({"data_class": "x"})), "data_class");
    assert_eq!(f(json!({"name": ""})), "name");
}

/// The evidence object's schema lists exactly the table's fields.
#[test]
fn evidence_schema_is_the_table() {
    let s = schema_for::<NewProject>();
    let ev = &s["properties"]["evidence"];
    assert_eq!(ev["additionalProperties"], json!(false));
    let names: Vec<&str> = ev["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut table: Vec<&str> = EVIDENCE_FIELDS.iter().map(|(n, _)| *n).collect();
    table.sort_unstable();
    assert_eq!(names, table);
}

/// What the hand-written parser accepted and refused before the body had a
/// type, kept: text is trimmed before its length, enum and pattern are
/// checked; a bad list item is refused on its field; a field sent twice is
/// refused, not half-checked.
#[test]
fn refusals_as_before_the_type() {
    let f = |b: Value| new(b).unwrap_err().field().unwrap_or_default().to_string();
    for (list, bad) in [
        ("primary_data_flows", json!([""])),
        ("primary_data_flows", json!([5])),
        ("critical_dependencies", json!(["ok", "  "])),
        ("maintainers", json!([5])),
        ("maintainers", json!(["nope"])),
    ] {
        assert_eq!(
            f(json!({"name": "P", list: bad.clone()})),
            format!("evidence.{list}"),
            "{list} {bad}"
        );
        assert_eq!(
            f(json!({"name": "P", "evidence": {list: bad.clone()}})),
            format!("evidence.{list}"),
            "nested {list} {bad}"
        );
    }
    let n = new(json!({"name": format!("{} ", "n".repeat(120)),
                       "group": format!(" {}", "g".repeat(40)),
                       "state_loss_posture": " stateless "}))
    .unwrap();
    assert_eq!(n.name.len(), 120);
    assert_eq!(n.evidence["state_loss_posture"], json!("stateless"));
    assert_eq!(
        f(json!({"name": "P", "runbook_url": "ftp://x",
                 "evidence": {"runbook_url": "https://ok.example"}})),
        "evidence.runbook_url"
    );
}
