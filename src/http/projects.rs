//! `/api/projects/*`: the registry over HTTP. Handlers parse, call the one
//! domain function, and render; every decision lives in `registry`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::Json;
use super::{Api, AppState, Reply};
use crate::auth::Principal;
use crate::edge::project_body;
use crate::edge::schema::JsonObject;
use crate::error::Error;
use crate::governance::promotion::PromotionStatus;
use crate::registry::{ProjectView, governance, keys, projects};

pub fn routes(api: Api) -> Api {
    api.get("/api/projects", list)
        .doc("Projects the caller may see, newest first")
        .query(&["group", "classification", "q", "limit", "cursor"])
        .post("/api/projects", register)
        .doc("Register a project; returns it with its id proj-YYYY-NNNN")
        .status(201)
        .answer::<ProjectView>()
        .get("/api/projects/{id}", get_one)
        .doc("One project")
        .answer::<ProjectView>()
        .patch("/api/projects/{id}", patch)
        .doc("Change a project (merge semantics: only the fields sent change; null clears)")
        .answer::<ProjectView>()
        .post("/api/projects/{id}/kill", kill)
        .doc("Freeze a project: its keys stop working and stoppable resources are suspended")
        .body::<Reason>()
        .post("/api/projects/{id}/unkill", unkill)
        .doc("Unfreeze a killed project and resume its suspended resources")
        .body::<Reason>()
        .post("/api/projects/{id}/decommission", decommission)
        .doc("Decommission a project (confirm with its id): keys revoked, resources destroyed")
        .body::<Decommission>()
        .get("/api/projects/{id}/keys", list_keys)
        .doc("The project's keys (never their values)")
        .post("/api/projects/{id}/keys", mint_key)
        .doc("Mint a project key for an agent; the key is shown only in this answer")
        .body::<keys::NewKey>()
        .status(201)
        .answer::<keys::MintedKey>()
        .delete("/api/projects/{id}/keys/{key_id}", revoke_key)
        .doc("Revoke a project key")
        .status(204)
        .get("/api/projects/{id}/promotion", promotion_status)
        .doc("The project's tier, the next one, and the evidence still missing for it")
        .answer::<PromotionStatus>()
        .post("/api/projects/{id}/promotion", request_promotion)
        .doc("Promote one tier up: to light-operational with complete evidence it applies at once; otherwise an approval request for another admin")
        .body_schema(inline_body::<governance::PromotionAsk>())
        .answer::<governance::PromotionAnswer>()
        .post("/api/projects/{id}/demote", demote)
        .doc("Move the project to a lower tier now (owner, manager or admin; reason required)")
        .body_schema(inline_body::<governance::DemotionAsk>())
        .answer::<ProjectView>()
        .post("/api/projects/{id}/extend", extend)
        .doc("Extend the review date: automatic up to review.auto_extensions, then an approval request")
        .body_schema(inline_body::<governance::ExtensionAsk>())
        .answer::<governance::ExtensionAnswer>()
}

/// A body's schema with its enums inline (the tiers), as the check on the
/// way in sees it: the document has no `$defs` of its own to point into.
fn inline_body<T: schemars::JsonSchema>() -> Value {
    Value::Object((*crate::edge::schema::schema_for::<T>()).clone())
}

async fn promotion_status(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Reply<PromotionStatus>, ApiError> {
    Ok(Reply(governance::status(app.registry(), &p, &id).await?))
}

async fn request_promotion(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<governance::PromotionAsk>,
) -> Result<Reply<governance::PromotionAnswer>, ApiError> {
    Ok(Reply(
        governance::request_promotion(app.registry(), &p, &id, b).await?,
    ))
}

async fn demote(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<governance::DemotionAsk>,
) -> Result<Reply<Value>, ApiError> {
    Ok(Reply(
        governance::demote(app.registry(), &p, &id, b)
            .await?
            .to_json(),
    ))
}

async fn extend(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<governance::ExtensionAsk>,
) -> Result<Reply<governance::ExtensionAnswer>, ApiError> {
    Ok(Reply(governance::extend(app.registry(), &p, &id, b).await?))
}

/// `?limit=` parsed with a field-naming error.
pub fn limit_param(q: &HashMap<String, String>) -> Result<i64, Error> {
    match q.get("limit") {
        None => Ok(50),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| Error::invalid("limit", "must be an integer between 1 and 500")),
    }
}

async fn list(
    State(app): State<AppState>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let f = projects::ListFilter {
        group: q.get("group").cloned().filter(|s| !s.is_empty()),
        classification: q.get("classification").cloned().filter(|s| !s.is_empty()),
        q: q.get("q").cloned().filter(|s| !s.is_empty()),
        cursor: q.get("cursor").cloned().filter(|s| !s.is_empty()),
        limit: limit_param(&q)?,
    };
    Ok(json_body(
        projects::list_page(app.registry(), &p, &f).await?,
    ))
}

fn json_body(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn register(
    State(app): State<AppState>,
    p: Principal,
    Json(body): Json<JsonObject>,
) -> Result<(StatusCode, Reply<Value>), ApiError> {
    projects::may_register(&p)?;
    let body = project_body::new_project(body)?;
    let pr = projects::register(app.registry(), &p, body).await?;
    Ok((StatusCode::CREATED, Reply(pr.to_json())))
}

async fn get_one(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Reply<Value>, ApiError> {
    Ok(Reply(
        projects::get(app.registry(), &p, &id).await?.to_json(),
    ))
}

async fn patch(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(body): Json<JsonObject>,
) -> Result<Reply<Value>, ApiError> {
    let body = project_body::project_patch(body)?;
    Ok(Reply(
        projects::patch(app.registry(), &p, &id, body)
            .await?
            .to_json(),
    ))
}

#[derive(Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Reason {
    #[serde(default)]
    reason: Option<String>,
}

async fn kill(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<Reason>,
) -> Result<Reply<Value>, ApiError> {
    let k =
        crate::provisioning::lifecycle::kill(app.provisioner(), &p, &id, true, b.reason).await?;
    let mut v = k.project.to_json();
    v["suspend_runs_queued"] = json!(k.runs_queued);
    Ok(Reply(v))
}

async fn unkill(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<Reason>,
) -> Result<Reply<Value>, ApiError> {
    let k =
        crate::provisioning::lifecycle::kill(app.provisioner(), &p, &id, false, b.reason).await?;
    let mut v = k.project.to_json();
    v["resume_runs_queued"] = json!(k.runs_queued);
    Ok(Reply(v))
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Decommission {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    confirm: Option<String>,
    #[serde(default)]
    destroy_data: Option<bool>,
}

async fn decommission(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<Decommission>,
) -> Result<Reply<Value>, ApiError> {
    let d = crate::provisioning::lifecycle::decommission(
        app.provisioner(),
        &p,
        &id,
        b.reason.as_deref(),
        b.confirm.as_deref(),
        b.destroy_data.unwrap_or(false),
    )
    .await?;
    let mut v = d.project.to_json();
    v["destroy_requests"] = json!(d.destroy_requests);
    Ok(Reply(v))
}

async fn list_keys(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Reply<Value>, ApiError> {
    Ok(Reply(
        json!({"keys": keys::list(app.registry(), &p, &id).await?}),
    ))
}

async fn mint_key(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<keys::NewKey>,
) -> Result<(StatusCode, Reply<keys::MintedKey>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Reply(keys::mint(app.registry(), &p, &id, b).await?),
    ))
}

async fn revoke_key(
    State(app): State<AppState>,
    p: Principal,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    keys::revoke(app.registry(), &p, &id, &key_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
