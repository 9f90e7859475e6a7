//! `/api/services`, `/api/projects/{id}/resources|cost|secrets` and
//! `/api/requests`: the provisioning API, the approvals inbox included.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::error::ApiError;
use super::extract::Json;
use super::projects::limit_param;
use super::{Api, AppState, Reply};
use crate::auth::Principal;
use crate::error::Error;
use crate::provisioning::ask::ResourceAsk;
use crate::provisioning::inbox::{Decided, InboxPage};
use crate::provisioning::view::{
    CostReport, RequestView, ResourceList, ResourceView, RunLog, SecretList,
};
use crate::provisioning::{offer, query, request};
use crate::registry::governance;

pub fn routes(api: Api) -> Api {
    api.get("/api/services", list_services)
        .doc("The service catalog, and whether provisioning is armed; with ?project= (implied by a project key) each service says whether a request would run with no person, and if not why")
        .query(&["project"])
        .get("/api/services/{id}", get_service)
        .doc("One service: its input schema, outputs, tier range and estimate; with ?project= (implied by a project key) whether a request would run with no person, and if not why")
        .query(&["project"])
        .get("/api/projects/{id}/resources", list_resources)
        .doc("The project's resources, outputs with secrets as secret_ref")
        .query(&["include_destroyed"])
        .answer::<ResourceList>()
        .post("/api/projects/{id}/resources", request_resource)
        .doc("Request a resource (202: the request, to follow with GET /api/requests/{id}; 200: the same ask again)")
        .body::<ResourceAsk>()
        .status(202)
        .answer::<RequestView>()
        .get("/api/projects/{id}/resources/{rid}", get_resource)
        .doc("One resource, by id or by name (with ?service= when two services share the name)")
        .query(&["service"])
        .answer::<ResourceView>()
        .delete("/api/projects/{id}/resources/{rid}", deprovision)
        .doc("Destroy a resource by id or name (?service= as for GET; data-bearing ones need confirm: true)")
        .query(&["service"])
        .body::<Confirm>()
        .status(202)
        .answer::<RequestView>()
        .get("/api/projects/{id}/cost", cost)
        .doc("The project's estimated monthly cost against its budget")
        .answer::<CostReport>()
        .get("/api/projects/{id}/secrets", secrets)
        .doc("The project's secrets: names, secret_refs and versions, never values")
        .answer::<SecretList>()
        .get("/api/requests", list_requests)
        .doc("Requests, newest first, provisioning and governance (`type`) together (without project: admins and auditors; state=pending_approval is the approvals inbox)")
        .query(&["project", "state", "limit", "cursor"])
        .answer::<InboxPage>()
        .get("/api/requests/{id}", get_request)
        .doc("One request: a provisioning one (req-…) with its resource, or a governance one (gov-…)")
        .answer::<Decided>()
        .get("/api/requests/{id}/log", run_log)
        .doc("The request's Terraform run log, secrets redacted")
        .answer::<RunLog>()
        .post("/api/requests/{id}/approve", approve)
        .doc("Approve a pending request (admins; not your own): a provisioning one queues its run, a promotion or extension applies after its checks")
        .body::<Decision>()
        .answer::<Decided>()
        .post("/api/requests/{id}/reject", reject)
        .doc("Reject a pending request with a reason (admins; not your own)")
        .body::<Decision>()
        .answer::<Decided>()
}

async fn list_services(
    State(app): State<AppState>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Reply<Value>, ApiError> {
    let project = q.get("project").cloned();
    Ok(Reply(offer::list(app.provisioner(), &p, project).await?))
}

async fn get_service(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Reply<Value>, ApiError> {
    let project = q.get("project").cloned();
    Ok(Reply(
        offer::get(app.provisioner(), &p, &id, project).await?,
    ))
}

async fn list_resources(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Reply<ResourceList>, ApiError> {
    let all = q
        .get("include_destroyed")
        .is_some_and(|v| v == "true" || v == "1");
    Ok(Reply(
        query::list_resources(app.provisioner(), &p, &id, all).await?,
    ))
}

async fn request_resource(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(ask): Json<ResourceAsk>,
) -> Result<(StatusCode, Reply<RequestView>), ApiError> {
    Ok(
        match request::request_resource(app.provisioner(), &p, &id, &ask).await? {
            request::Asked::Created(v) => (StatusCode::ACCEPTED, Reply(v)),
            request::Asked::Existing(v) => (StatusCode::OK, Reply(v)),
        },
    )
}

async fn get_resource(
    State(app): State<AppState>,
    p: Principal,
    Path((id, rid)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Reply<ResourceView>, ApiError> {
    let service = q.get("service").map(String::as_str);
    Ok(Reply(
        query::get_resource(app.provisioner(), &p, &id, &rid, service)
            .await?
            .view(),
    ))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Confirm {
    #[serde(default)]
    confirm: bool,
}

async fn deprovision(
    State(app): State<AppState>,
    p: Principal,
    Path((id, rid)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    Json(b): Json<Confirm>,
) -> Result<(StatusCode, Reply<RequestView>), ApiError> {
    let service = q.get("service").map(String::as_str);
    let r = query::get_resource(app.provisioner(), &p, &id, &rid, service).await?;
    Ok((
        StatusCode::ACCEPTED,
        Reply(request::deprovision(app.provisioner(), &p, &id, &r.id, b.confirm).await?),
    ))
}

async fn cost(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Reply<CostReport>, ApiError> {
    Ok(Reply(
        query::project_cost(app.provisioner(), &p, &id).await?,
    ))
}

async fn secrets(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Reply<SecretList>, ApiError> {
    Ok(Reply(
        query::list_secrets(app.provisioner(), &p, &id).await?,
    ))
}

async fn list_requests(
    State(app): State<AppState>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Reply<InboxPage>, ApiError> {
    let project = q
        .get("project")
        .filter(|s| !s.is_empty())
        .map(String::as_str);
    let state = q.get("state").filter(|s| !s.is_empty()).map(String::as_str);
    let cursor = q
        .get("cursor")
        .filter(|s| !s.is_empty())
        .map(String::as_str);
    Ok(Reply(
        query::list_requests(
            app.provisioner(),
            &p,
            project,
            state,
            limit_param(&q)?,
            cursor,
        )
        .await?,
    ))
}

async fn get_request(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Reply<Decided>, ApiError> {
    Ok(Reply(if governance::is_governance_id(&id) {
        Decided::Governance(Box::new(governance::get(app.registry(), &p, &id).await?))
    } else {
        Decided::Provisioning(Box::new(
            query::get_request(app.provisioner(), &p, &id).await?,
        ))
    }))
}

async fn run_log(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Reply<RunLog>, ApiError> {
    Ok(Reply(query::run_log(app.provisioner(), &p, &id).await?))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Decision {
    #[serde(default)]
    reason: Option<String>,
}

async fn approve(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<Decision>,
) -> Result<Reply<Decided>, ApiError> {
    Ok(Reply(decide(&app, &p, &id, true, b.reason).await?))
}

async fn reject(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<Decision>,
) -> Result<Reply<Decided>, ApiError> {
    Ok(Reply(decide(&app, &p, &id, false, b.reason).await?))
}

/// One decision route for both kinds of request: the id's prefix says
/// which. The decider is the credential's (`p`), never the body's.
async fn decide(
    app: &AppState,
    p: &Principal,
    id: &str,
    approve: bool,
    reason: Option<String>,
) -> Result<Decided, Error> {
    Ok(if governance::is_governance_id(id) {
        Decided::Governance(Box::new(
            governance::decide(app.registry(), p, id, approve, reason).await?,
        ))
    } else {
        Decided::Provisioning(Box::new(
            request::decide(app.provisioner(), p, id, approve, reason).await?,
        ))
    })
}
