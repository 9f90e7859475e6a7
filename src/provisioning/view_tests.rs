//! The answers keep the shapes callers read, and each answer type's
//! `output_schema` (the MCP `outputSchema`) accepts real answers of it.

use chrono::{DateTime, TimeZone, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use super::*;
use crate::catalog::schema::validate;
use crate::edge::schema::output_schema;
use crate::provisioning::Request;

fn at(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + s, 0).unwrap()
}

fn resource(pending: Option<Request>) -> Resource {
    Resource {
        id: "res-1".into(),
        project_id: "proj-2026-0001".into(),
        service: "demo-token".into(),
        name: "tok".into(),
        spec: r#"{"length":32}"#.into(),
        state: ResourceState::Fulfilled,
        armed: true,
        cloud: "aws".into(),
        account: Some("123456789012".into()),
        outputs: r#"{"token":"asgard://secrets/proj-2026-0001/demo-token/tok/token"}"#.into(),
        estimate_cents: 1234,
        suspended: false,
        last_error: None,
        created_by: "key:agent".into(),
        created_at: at(0),
        updated_at: at(5),
        pending,
    }
}

fn request(kind: RequestKind, state: RequestState) -> Request {
    Request {
        id: "req-1".into(),
        resource_id: "res-1".into(),
        project_id: "proj-2026-0001".into(),
        kind,
        spec: r#"{"length":48}"#.into(),
        state,
        needs_approval: false,
        requested_by: "key:agent".into(),
        requested_by_user_id: None,
        decided_by: None,
        decision_reason: None,
        error: None,
        attempts: 1,
        claimed_by: None,
        created_at: at(10),
        updated_at: at(20),
        started_at: Some(at(15)),
        finished_at: None,
    }
}

/// Serialize `answer`, then check it against its type's output schema:
/// every value fits, every required key is there, and no key is one the
/// schema does not name (which `validate` alone would let through).
fn fits<T: Serialize + JsonSchema>(answer: &T) -> Value {
    let schema = output_schema::<T>();
    let mut v = serde_json::to_value(answer).unwrap();
    let before = v.clone();
    validate("", &schema, &mut v).unwrap_or_else(|e| panic!("{e:?}: {v:#}"));
    assert_eq!(v, before, "the schema adds no defaults to an answer");
    names_every_key("", &schema, &v);
    every_subschema_is_an_object("", &schema);
    v
}

/// The MCP SDK refuses a tools list whose `outputSchema` has a boolean
/// (`true`) as a property's schema; each must be an object.
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

#[test]
fn a_resource_keeps_its_shape() {
    let mut pending = request(RequestKind::Update, RequestState::PendingApproval);
    pending.id = "req-2".into();
    let v = fits(&resource(Some(pending)).view());
    assert_eq!(
        v,
        json!({
            "resource_id": "res-1", "project_id": "proj-2026-0001", "service": "demo-token", "name": "tok",
            "spec": {"length": 32}, "state": "fulfilled", "armed": true, "cloud": "aws",
            "account": "123456789012",
            "outputs": {"token": "asgard://secrets/proj-2026-0001/demo-token/tok/token"},
            "estimate_monthly_usd": 12.34, "suspended": false, "last_error": null,
            "created_by": "key:agent", "created_at": "2026-05-28T20:26:40Z",
            "updated_at": "2026-05-28T20:26:45Z",
            "pending_spec": {"length": 48}, "pending_request_id": "req-2",
            "pending_state": "pending_approval",
        })
    );
    // No change waiting: no pending_* keys at all. Stored text that is not
    // JSON reads as a null spec and empty outputs.
    let mut r = resource(None);
    r.spec = "not json".into();
    r.outputs = "not json".into();
    r.account = None;
    r.last_error = Some("boom".into());
    let v = fits(&r.view());
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(!keys.iter().any(|k| k.starts_with("pending_")), "{keys:?}");
    assert_eq!(v["spec"], Value::Null);
    assert_eq!(v["outputs"], json!({}));
    assert_eq!(v["account"], Value::Null);
    assert_eq!(v["last_error"], "boom");
    fits(&ResourceList {
        resources: vec![resource(None).view()],
    });
}

#[test]
fn a_request_keeps_its_shape_with_and_without_its_resource() {
    let req = request(RequestKind::Create, RequestState::Running);
    let bare = json!({
        "request_id": "req-1", "resource_id": "res-1", "project_id": "proj-2026-0001",
        "kind": "create", "state": "running", "needs_approval": false, "spec": {"length": 48},
        "requested_by": "key:agent", "decided_by": null, "decision_reason": null,
        "failure_reason": null, "attempts": 1,
        "created_at": "2026-05-28T20:26:50Z", "updated_at": "2026-05-28T20:27:00Z",
        "started_at": "2026-05-28T20:26:55Z", "finished_at": null,
        "next": "poll get_request every few seconds until fulfilled or failed",
    });
    assert_eq!(fits(&req.view(None)), bare);

    let mut with = bare;
    let o = with.as_object_mut().unwrap();
    o.insert("service".into(), json!("demo-token"));
    o.insert("name".into(), json!("tok"));
    o.insert("armed".into(), json!(true));
    o.insert("resource_state".into(), json!("fulfilled"));
    o.insert(
        "outputs".into(),
        json!({"token": "asgard://secrets/proj-2026-0001/demo-token/tok/token"}),
    );
    o.insert("estimate_monthly_usd".into(), json!(12.34));
    assert_eq!(fits(&req.view(Some(&resource(None)))), with);

    // What the ask adds: grants for the approver, the repeat mark, the plan
    // of an unarmed replica, why it waits.
    let mut v = req.view(Some(&resource(None)));
    v.allowlisted_grants = Some(vec!["arn:aws:kms:us-east-1:123456789012:key/k".into()]);
    v.idempotent = Some(true);
    v.approval_reason = Some("over the auto-approval limit".into());
    v.plan = Some(UnarmedPlan {
        armed: false,
        message: "nothing was created",
        service: "demo-token".into(),
        module: "demo-token".into(),
        inputs: json!({"length": 48}),
        estimate_monthly_usd: 0.5,
        would_need_approval: None,
    });
    let v = fits(&v);
    assert_eq!(
        v["allowlisted_grants"],
        json!(["arn:aws:kms:us-east-1:123456789012:key/k"])
    );
    assert_eq!(v["idempotent"], true);
    assert_eq!(v["approval_reason"], "over the auto-approval limit");
    assert_eq!(
        v["plan"],
        json!({"armed": false, "message": "nothing was created", "service": "demo-token",
               "module": "demo-token", "inputs": {"length": 48}, "estimate_monthly_usd": 0.5,
               "would_need_approval": null})
    );
    let page = fits(&RequestPage {
        requests: vec![req.view(None)],
        next_cursor: None,
    });
    assert_eq!(page["next_cursor"], Value::Null);
    fits(&RequestPage {
        requests: vec![],
        next_cursor: Some("abc".into()),
    });
}

#[test]
fn cost_secrets_and_logs_keep_their_shapes() {
    let line = CostLine {
        resource_id: "res-1".into(),
        service: "demo-token".into(),
        name: "tok".into(),
        state: ResourceState::Queued,
        estimate_monthly_usd: 1.5,
    };
    let spend = || SpendToDate {
        measurable: false,
        note: "estimates only",
    };
    let v = fits(&CostReport {
        project_id: "proj-2026-0001".into(),
        budget_usd: 100.0,
        budget_set: true,
        committed_monthly_usd: 1.5,
        remaining_monthly_usd: Some(98.5),
        resources: vec![line],
        spend_to_date: spend(),
    });
    assert_eq!(
        v,
        json!({"project_id": "proj-2026-0001", "budget_usd": 100.0, "budget_set": true,
               "committed_monthly_usd": 1.5, "remaining_monthly_usd": 98.5,
               "resources": [{"resource_id": "res-1", "service": "demo-token", "name": "tok",
                              "state": "queued", "estimate_monthly_usd": 1.5}],
               "spend_to_date": {"measurable": false, "note": "estimates only"}})
    );
    // No budget: the remaining amount is there, as null.
    let v = fits(&CostReport {
        project_id: "proj-2026-0001".into(),
        budget_usd: 0.0,
        budget_set: false,
        committed_monthly_usd: 0.0,
        remaining_monthly_usd: None,
        resources: vec![],
        spend_to_date: spend(),
    });
    assert_eq!(v["remaining_monthly_usd"], Value::Null);

    let v = fits(&SecretValue {
        secret_ref: "asgard://secrets/proj-2026-0001/demo-token/tok/token".into(),
        version: 2,
        value: "s3cr3t".into(),
    });
    assert_eq!(
        v,
        json!({"secret_ref": "asgard://secrets/proj-2026-0001/demo-token/tok/token",
               "version": 2, "value": "s3cr3t"})
    );
    let v = fits(&SecretList {
        secrets: vec![SecretEntry {
            name: "demo-token/tok/token".into(),
            secret_ref: "asgard://secrets/proj-2026-0001/demo-token/tok/token".into(),
            version: 1,
            created_at: at(0),
        }],
    });
    assert_eq!(
        v,
        json!({"secrets": [{"name": "demo-token/tok/token",
               "secret_ref": "asgard://secrets/proj-2026-0001/demo-token/tok/token",
               "version": 1, "created_at": "2026-05-28T20:26:40Z"}]})
    );
    let v = fits(&RunLog {
        request_id: "req-1".into(),
        log: None,
    });
    assert_eq!(v, json!({"request_id": "req-1", "log": null}));
    let v = fits(&RunLog {
        request_id: "req-1".into(),
        log: Some("Apply complete!".into()),
    });
    assert_eq!(v["log"], "Apply complete!");
}

/// The schemas say what callers rely on: the keys always there are
/// required, the states are the enums' strings, a missing resource part or
/// a wrong type is refused.
#[test]
fn the_schemas_refuse_what_the_answers_never_are() {
    let schema = output_schema::<RequestView>();
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
    // The resource part is all or nothing, never required.
    for k in ["service", "resource_state", "outputs", "allowlisted_grants"] {
        assert!(!required.contains(&k), "{k} is optional");
        assert!(schema["properties"].get(k).is_some(), "{k} is described");
    }
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
    let cost = output_schema::<CostReport>();
    assert_eq!(
        cost["properties"]["remaining_monthly_usd"]["type"],
        json!(["number", "null"])
    );
}
