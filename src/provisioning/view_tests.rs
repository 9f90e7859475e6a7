//! The answers keep the shapes callers read: the keys, their nullability,
//! and the parts present only when they apply.

use serde::Serialize;
use serde_json::{Value, json};

use super::samples::*;
use super::*;

fn json_of<T: Serialize>(answer: &T) -> Value {
    serde_json::to_value(answer).unwrap()
}

#[test]
fn a_resource_keeps_its_shape() {
    let mut pending = request(RequestKind::Update, RequestState::PendingApproval);
    pending.id = "req-2".into();
    let v = json_of(&resource(Some(pending)).view());
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
    let v = json_of(&r.view());
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(!keys.iter().any(|k| k.starts_with("pending_")), "{keys:?}");
    assert_eq!(v["spec"], Value::Null);
    assert_eq!(v["outputs"], json!({}));
    assert_eq!(v["account"], Value::Null);
    assert_eq!(v["last_error"], "boom");
    json_of(&ResourceList {
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
    assert_eq!(json_of(&req.view(None)), bare);

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
    assert_eq!(json_of(&req.view(Some(&resource(None)))), with);

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
    let v = json_of(&v);
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
    let page = json_of(&RequestPage {
        requests: vec![req.view(None)],
        next_cursor: None,
    });
    assert_eq!(page["next_cursor"], Value::Null);
    json_of(&RequestPage {
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
    let v = json_of(&CostReport {
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
    let v = json_of(&CostReport {
        project_id: "proj-2026-0001".into(),
        budget_usd: 0.0,
        budget_set: false,
        committed_monthly_usd: 0.0,
        remaining_monthly_usd: None,
        resources: vec![],
        spend_to_date: spend(),
    });
    assert_eq!(v["remaining_monthly_usd"], Value::Null);

    let v = json_of(&SecretValue {
        secret_ref: "asgard://secrets/proj-2026-0001/demo-token/tok/token".into(),
        version: 2,
        value: "s3cr3t".into(),
    });
    assert_eq!(
        v,
        json!({"secret_ref": "asgard://secrets/proj-2026-0001/demo-token/tok/token",
               "version": 2, "value": "s3cr3t"})
    );
    let v = json_of(&SecretList {
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
    let v = json_of(&RunLog {
        request_id: "req-1".into(),
        log: None,
    });
    assert_eq!(v, json!({"request_id": "req-1", "log": null}));
    let v = json_of(&RunLog {
        request_id: "req-1".into(),
        log: Some("Apply complete!".into()),
    });
    assert_eq!(v["log"], "Apply complete!");
}
