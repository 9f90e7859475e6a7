//! Health, readiness, the agent seed over REST, and the landing page.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::{Api, AppState, Reply};
use crate::auth::Principal;
use crate::error::Error;

pub fn public_routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/", get(index))
}

pub fn api_routes(api: Api) -> Api {
    api.get("/api/seed", seed_list)
        .doc("The agent seed: every guidance file with its id, kind and keywords")
        .get("/api/seed/{id}", seed_get)
        .doc("One seed file with its content")
        .get("/api/openapi.json", super::openapi::serve)
        .doc("This description (OpenAPI 3.1)")
}

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "ok")
}

async fn readyz(State(app): State<AppState>) -> Response {
    if app.store.ping(std::time::Duration::from_secs(2)).await {
        (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "ready",
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not ready: database unreachable",
        )
            .into_response()
    }
}

async fn index(State(app): State<AppState>) -> Html<String> {
    Html(crate::web::index_html(&app.config.system_name))
}

async fn seed_list(State(app): State<AppState>, _p: Principal) -> Reply<Value> {
    Reply(json!({"files": app.seed.list()}))
}

async fn seed_get(
    State(app): State<AppState>,
    _p: Principal,
    Path(id): Path<String>,
) -> Result<Reply<Value>, ApiError> {
    let f = app
        .seed
        .get(&id)
        .ok_or_else(|| Error::not_found(format!("seed file {id}")))?;
    Ok(Reply(f.to_full_json()))
}
