//! Each provisioning tool's advertised `outputSchema` (built from its answer
//! type) accepts real answers of that type: every value fits, every required
//! key is there, no key is one the schema leaves out, and every property's
//! schema is an object (the MCP SDK refuses a tools list with a bare `true`).

use serde::Serialize;
use serde_json::{Value, json};

use crate::catalog::schema::validate;
use crate::provisioning::inbox::{InboxItem, InboxPage};
use crate::provisioning::view::ResourceList;
use crate::provisioning::view::samples::*;
use crate::provisioning::{RequestKind, RequestState};

/// The `outputSchema` that `tools/list` advertises for `tool`.
fn advertised(tool: &str) -> Value {
    let t = super::super::find(tool).expect("a listed tool");
    Value::Object((**t.tool().output_schema.as_ref().expect("an outputSchema")).clone())
}

fn fits<T: Serialize>(tool: &str, answer: &T) {
    let schema = advertised(tool);
    let v = serde_json::to_value(answer).unwrap();
    let mut checked = v.clone();
    validate("", &schema, &mut checked).unwrap_or_else(|e| panic!("{tool}: {e:?}: {v:#}"));
    assert_eq!(
        checked, v,
        "{tool}: the schema adds no defaults to an answer"
    );
    names_every_key(tool, &schema, &v);
    every_subschema_is_an_object(tool, &schema);
}

fn names_every_key(path: &str, schema: &Value, v: &Value) {
    match v {
        Value::Object(map) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return; // free-form (spec, outputs, inputs)
            };
            for (k, sub) in map {
                let s = props
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} is not in the schema"));
                names_every_key(&format!("{path}.{k}"), s, sub);
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    names_every_key(&format!("{path}[{i}]"), s, item);
                }
            }
        }
        _ => {}
    }
}

fn every_subschema_is_an_object(path: &str, schema: &Value) {
    assert!(schema.is_object(), "{path}: {schema}");
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, sub) in props {
            every_subschema_is_an_object(&format!("{path}.{k}"), sub);
        }
    }
    if let Some(items) = schema.get("items") {
        every_subschema_is_an_object(&format!("{path}[]"), items);
    }
}

#[test]
fn every_provisioning_answer_fits_its_tools_output_schema() {
    for v in request_views() {
        for tool in ["request_resource", "get_request", "deprovision_resource"] {
            fits(tool, &v);
        }
    }
    fits(
        "list_requests",
        &InboxPage {
            requests: request_views()
                .into_iter()
                .map(|v| InboxItem::Provisioning(Box::new(v)))
                .chain(
                    governance_views()
                        .into_iter()
                        .map(|v| InboxItem::Governance(Box::new(v))),
                )
                .collect(),
            next_cursor: Some("abc".into()),
        },
    );
    fits(
        "list_requests",
        &InboxPage {
            requests: vec![],
            next_cursor: None,
        },
    );
    for v in resource_views() {
        fits("get_resource", &v);
    }
    fits(
        "list_resources",
        &ResourceList {
            resources: resource_views(),
        },
    );
    for v in cost_reports() {
        fits("project_cost", &v);
    }
    fits("get_secret", &secret_value());
    fits("list_secrets", &secret_list());
}

/// The schemas say what callers rely on: the keys always there are
/// required, the resource part and what an ask adds are not, states are the
/// enums' strings, and a wrong type or a missing key is refused.
#[test]
fn the_schemas_refuse_what_the_answers_never_are() {
    let schema = advertised("get_request");
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for k in [
        "request_id",
        "resource_id",
        "state",
        "needs_approval",
        "next",
    ] {
        assert!(required.contains(&k), "{k} is required: {required:?}");
    }
    for k in [
        "service",
        "resource_state",
        "outputs",
        "allowlisted_grants",
        "plan",
    ] {
        assert!(!required.contains(&k), "{k} is optional");
        assert!(schema["properties"].get(k).is_some(), "{k} is described");
    }
    // Left out when it does not apply, never null.
    assert_eq!(schema["properties"]["idempotent"]["type"], "boolean");
    let mut v = serde_json::to_value(request(RequestKind::Create, RequestState::Queued).view(None))
        .unwrap();
    v["state"] = json!("fulfiled");
    let e = validate("", &schema, &mut v).unwrap_err();
    assert_eq!(e.field(), Some("state"));
    v["state"] = json!("queued");
    v["attempts"] = json!("1");
    assert_eq!(
        validate("", &schema, &mut v).unwrap_err().field(),
        Some("attempts")
    );
    v.as_object_mut().unwrap().remove("attempts");
    assert_eq!(
        validate("", &schema, &mut v).unwrap_err().field(),
        Some("attempts")
    );
    let cost = advertised("project_cost");
    assert_eq!(
        cost["properties"]["remaining_monthly_usd"]["type"],
        json!(["number", "null"])
    );
}

/// Governance requests as the inbox lists them: a pending promotion and a
/// decided extension (every optional part both null and set).
fn governance_views() -> Vec<crate::registry::governance::GovernanceRequestView> {
    use crate::governance::Classification;
    use crate::registry::governance::{GovKind, GovRequest, GovState};
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let promotion = GovRequest {
        id: "gov-0123".into(),
        kind: GovKind::Promotion,
        project_id: "proj-2026-0001".into(),
        from_tier: Some(Classification::LightOperational),
        to_tier: Some(Classification::WideOperational),
        review_date_before: None,
        review_date_after: None,
        requested_by: "user:ann@corp.example".into(),
        requested_by_user_id: Some("u-ann".into()),
        request_reason: None,
        state: GovState::PendingApproval,
        decided_by: None,
        decision_reason: None,
        created_at: at,
        updated_at: at,
        decided_at: None,
    };
    let extension = GovRequest {
        id: "gov-4567".into(),
        kind: GovKind::ReviewExtension,
        from_tier: None,
        to_tier: None,
        review_date_before: Some(at),
        review_date_after: Some(at),
        request_reason: Some("launch week".into()),
        state: GovState::Approved,
        decided_by: Some("user:admin".into()),
        decision_reason: Some("ok".into()),
        decided_at: Some(at),
        ..promotion.clone()
    };
    vec![promotion.view(), extension.view()]
}

#[test]
fn governance_answers_fit_their_tools_output_schema() {
    use crate::governance::Classification;
    use crate::registry::governance::PromotionAnswer;
    let mut views = governance_views().into_iter();
    fits(
        "request_promotion",
        &PromotionAnswer {
            outcome: "pending_approval",
            project_id: "proj-2026-0001".into(),
            from: Classification::LightOperational,
            to: Classification::WideOperational,
            classification: Classification::LightOperational,
            request: views.next(),
            next: "wait",
        },
    );
    fits(
        "request_promotion",
        &PromotionAnswer {
            outcome: "applied",
            project_id: "proj-2026-0001".into(),
            from: Classification::Poc,
            to: Classification::LightOperational,
            classification: Classification::LightOperational,
            request: None,
            next: "done",
        },
    );
}
