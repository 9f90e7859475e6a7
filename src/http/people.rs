//! `/api/users`, `/api/groups` and `/api/audit`: user administration, the
//! group allowlist, and the audit log.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::Json;
use super::projects::limit_param;
use super::{Api, AppState, Reply};
use crate::audit;
use crate::auth::{Principal, users};
use crate::error::Error;

pub fn routes(api: Api) -> Api {
    api.get("/api/users", list_users)
        .doc("All users (admins and auditors)")
        .post("/api/users", create_user)
        .doc("Create a local user (admins)")
        .body::<users::NewUser>()
        .status(201)
        .patch("/api/users/{id}", update_user)
        .doc("Change a user's role, display name or active flag (admins; the last admin is protected)")
        .body::<users::UserPatch>()
        .get("/api/groups", groups)
        .doc("The groups a project may belong to, with their cost centers")
        .answer::<crate::registry::Groups>()
        .get("/api/audit", audit_log)
        .doc("The audit log, newest first, scoped to what the caller may see")
        .query(&["project", "actor", "action", "since", "until", "limit", "cursor"])
}

async fn list_users(State(app): State<AppState>, p: Principal) -> Result<Reply<Value>, ApiError> {
    let rows = users::list(&app.store, &p).await?;
    Ok(Reply(
        json!({"users": rows.iter().map(|u| u.public()).collect::<Vec<_>>()}),
    ))
}

async fn create_user(
    State(app): State<AppState>,
    p: Principal,
    Json(b): Json<users::NewUser>,
) -> Result<(StatusCode, Reply<Value>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Reply(users::create(&app.store, &p, b).await?.public()),
    ))
}

async fn update_user(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<users::UserPatch>,
) -> Result<Reply<Value>, ApiError> {
    Ok(Reply(users::update(&app.store, &p, &id, b).await?.public()))
}

async fn groups(State(app): State<AppState>, _p: Principal) -> Response {
    Reply(crate::registry::groups(&app.config)).into_response()
}

fn time_param(q: &HashMap<String, String>, name: &str) -> Result<Option<DateTime<Utc>>, Error> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                Error::invalid(name, "must be an RFC 3339 time like 2026-11-28T00:00:00Z")
            }),
    }
}

async fn audit_log(
    State(app): State<AppState>,
    p: Principal,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Reply<Value>, ApiError> {
    let cursor = match q.get("cursor").filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            Error::invalid("cursor", "must be a cursor returned by a previous page")
        })?),
    };
    let f = audit::Filter {
        project: q.get("project").cloned().filter(|s| !s.is_empty()),
        actor: q.get("actor").cloned().filter(|s| !s.is_empty()),
        action: q.get("action").cloned().filter(|s| !s.is_empty()),
        since: time_param(&q, "since")?,
        until: time_param(&q, "until")?,
        cursor,
        limit: limit_param(&q)?,
    };
    let (events, next) = audit::list(&app.store, &p, &f).await?;
    Ok(Reply(json!({"events": events, "next_cursor": next})))
}
