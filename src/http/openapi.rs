//! `GET /api/openapi.json`: an OpenAPI 3.1 description generated
//! from the route table itself (`Api` records each route with its summary,
//! success status, query parameters and body schema), so it lists exactly the
//! routes the router serves. Typed bodies get their schema from the Rust type
//! (`schemars`); the two project bodies too, with this server's groups and
//! registration settings added by `registry::input::describe`.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{AppState, RouteDoc, documented_routes, middleware::is_public_api};
use crate::app::App;
use crate::auth::Principal;
use crate::edge::schema::schema_for;
use crate::registry::input::{self, NewProject, ProjectPatch};

/// The JSON Schema of `T`, as an OpenAPI 3.1 (JSON Schema 2020-12) object.
pub fn schema_of<T: schemars::JsonSchema>() -> Value {
    let mut v = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        o.remove("title");
    }
    v
}

/// The body of `POST /api/projects` (`register`) or `PATCH /api/projects/{id}`:
/// the schema of the registry's type, with this server's settings added.
fn project_body(app: &App, register: bool) -> Value {
    let mut schema = if register {
        schema_for::<NewProject>()
    } else {
        schema_for::<ProjectPatch>()
    };
    let s = Arc::make_mut(&mut schema);
    input::describe(s, register, &app.config);
    Value::Object(s.clone())
}

fn parameters(path: &str, doc: &RouteDoc) -> Vec<Value> {
    let mut out: Vec<Value> = path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    out.extend(doc.query.iter().map(|name| {
        let schema = match *name {
            "limit" => json!({"type": "integer", "minimum": 1, "maximum": 500, "default": 50}),
            _ => json!({"type": "string"}),
        };
        json!({"name": name, "in": "query", "required": false, "schema": schema})
    }));
    out
}

fn operation(app: &App, method: &str, path: &'static str, doc: &RouteDoc) -> Value {
    let status = if doc.status == 0 { 200 } else { doc.status };
    let ok = match status {
        204 => json!({"description": "done; no body"}),
        302 => json!({"description": "a redirect (browser flow)"}),
        _ => {
            let schema = doc
                .answer
                .clone()
                .unwrap_or_else(|| json!({"type": "object"}));
            json!({"description": "success", "content": {"application/json": {"schema": schema}}})
        }
    };
    let tag = path
        .trim_start_matches("/api/")
        .split('/')
        .next()
        .unwrap_or("api");
    let op_id = format!(
        "{method}_{}",
        path.trim_start_matches('/')
            .replace(['{', '}'], "")
            .replace(['/', '.', '-'], "_")
    );
    let mut op = json!({
        "operationId": op_id,
        "summary": doc.summary,
        "tags": [tag],
        "parameters": parameters(path, doc),
        "responses": {
            status.to_string(): ok,
            "4XX": {"$ref": "#/components/responses/Error"},
        },
    });
    let body = match (method, path) {
        ("post", "/api/projects") => Some(project_body(app, true)),
        ("patch", "/api/projects/{id}") => Some(project_body(app, false)),
        _ => doc.body.clone(),
    };
    if let Some(schema) = body {
        // A missing body counts as `{}`, so a body without required fields
        // may be left out.
        let required = schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        op["requestBody"] =
            json!({"required": required, "content": {"application/json": {"schema": schema}}});
    }
    if is_public_api(path) {
        op["security"] = json!([]);
    }
    op
}

/// The whole description for this server (its registration settings and
/// public URL included).
pub fn document(app: &App) -> Value {
    let mut paths = Map::new();
    for (method, path, doc) in documented_routes() {
        let m = method.as_str().to_ascii_lowercase();
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[m.as_str()] = operation(app, &m, path, &doc);
    }
    paths.insert("/mcp".into(), json!({"post": {
        "operationId": "post_mcp",
        "summary": "MCP (Streamable HTTP, JSON-RPC 2.0) for agents: a project key or a personal access token as Bearer; see docs/mcp.md",
        "tags": ["mcp"],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "a JSON-RPC response"},
                      "4XX": {"$ref": "#/components/responses/Error"}},
    }}));
    let server = app.config.public_url.clone().unwrap_or_else(|| "/".into());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{} API", app.config.system_name),
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Asgard's REST API for humans and scripts. Errors share one envelope; lists page with limit and cursor. Agents use /mcp.",
        },
        "servers": [{"url": server}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a session token from POST /api/auth/login, or a personal access token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "asgard_session"},
            },
            "schemas": {"Error": {
                "type": "object", "required": ["error"],
                "properties": {"error": {
                    "type": "object", "required": ["code", "message", "hint"],
                    "properties": {
                        "code": {"type": "string", "description": "stable machine-readable code, e.g. invalid_request"},
                        "message": {"type": "string"},
                        "hint": {"type": "string", "description": "what to do about it"},
                        "field": {"type": "string", "description": "the offending field, for 422"},
                        "request_id": {"type": "string"},
                    },
                }},
            }},
            "responses": {"Error": {
                "description": "the error envelope",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }},
        },
    })
}

pub async fn serve(State(app): State<AppState>, _p: Principal) -> Response {
    // The route table and the configuration are fixed for the life of the
    // process, so the document is built and serialized once.
    static DOC: OnceLock<Bytes> = OnceLock::new();
    let body = DOC.get_or_init(|| Bytes::from(document(&app).to_string()));
    ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response()
}
