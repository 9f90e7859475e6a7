//! Sample answers for tests: the domain's shape tests and the MCP tools'
//! schema tests read the same ones.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::provisioning::Request;

pub fn at(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + s, 0).unwrap()
}

pub fn resource(pending: Option<Request>) -> Resource {
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

pub fn request(kind: RequestKind, state: RequestState) -> Request {
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
        approval_reason: None,
    }
}

/// Requests as answered: bare (a list row), with the resource, with what
/// an ask adds (grants, the repeat mark, an unarmed plan, the approval
/// reason), and one whose stored spec is not JSON.
pub fn request_views() -> Vec<RequestView> {
    let req = request(RequestKind::Create, RequestState::Running);
    let mut full = req.view(Some(&resource(None)));
    full.allowlisted_grants = Some(vec!["arn:aws:kms:us-east-1:123456789012:key/k".into()]);
    full.idempotent = Some(true);
    full.approval_reason = Some("over the auto-approval limit".into());
    full.plan = Some(UnarmedPlan {
        armed: false,
        message: "nothing was created",
        service: "demo-token".into(),
        module: "demo-token".into(),
        inputs: json!({"length": 48}),
        estimate_monthly_usd: 0.5,
        would_need_approval: None,
    });
    let mut broken = request(RequestKind::Destroy, RequestState::Failed);
    broken.spec = "not json".into();
    broken.error = Some("boom".into());
    broken.finished_at = Some(at(30));
    vec![
        req.view(None),
        req.view(Some(&resource(None))),
        full,
        broken.view(Some(&resource(None))),
    ]
}

/// Resources as answered: with a change waiting, without, and with stored
/// text that is not JSON.
pub fn resource_views() -> Vec<ResourceView> {
    let mut pending = request(RequestKind::Update, RequestState::PendingApproval);
    pending.id = "req-2".into();
    let mut broken = resource(None);
    broken.spec = "not json".into();
    broken.outputs = "not json".into();
    broken.account = None;
    broken.last_error = Some("boom".into());
    vec![
        resource(Some(pending)).view(),
        resource(None).view(),
        broken.view(),
    ]
}

pub fn cost_reports() -> Vec<CostReport> {
    let report = |budget: bool| CostReport {
        project_id: "proj-2026-0001".into(),
        budget_usd: if budget { 100.0 } else { 0.0 },
        budget_set: budget,
        committed_monthly_usd: 1.5,
        remaining_monthly_usd: budget.then_some(98.5),
        resources: vec![CostLine {
            resource_id: "res-1".into(),
            service: "demo-token".into(),
            name: "tok".into(),
            state: ResourceState::Queued,
            estimate_monthly_usd: 1.5,
        }],
        spend_to_date: SpendToDate {
            measurable: false,
            note: "estimates only",
        },
    };
    vec![report(true), report(false)]
}

pub fn secret_value() -> SecretValue {
    SecretValue {
        secret_ref: "asgard://secrets/proj-2026-0001/demo-token/tok/token".into(),
        version: 2,
        value: "s3cr3t".into(),
    }
}

pub fn secret_list() -> SecretList {
    SecretList {
        secrets: vec![SecretEntry {
            name: "demo-token/tok/token".into(),
            secret_ref: "asgard://secrets/proj-2026-0001/demo-token/tok/token".into(),
            version: 1,
            created_at: at(0),
        }],
    }
}
