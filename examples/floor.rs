//! The benchmark floor: a minimal axum server that answers the routes the
//! benchmarks hit (`bench/`) with constants. It does no auth, no DB and no
//! JSON parsing of requests beyond reading the body, so it measures what
//! tokio + hyper + axum cost on this machine: the ceiling Asgard's own
//! figures are compared against (as a ratio, measured in the same run).
//!
//! Build: `cargo build --release --example floor`
//! Run:   `target/release/examples/floor 127.0.0.1:PORT`

#![allow(clippy::print_stderr)]

use axum::serve::ListenerExt;
use axum::{
    Router,
    body::Bytes,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};

/// The shape and size of Asgard's `GET /api/projects` with 20 projects
/// (about 11 KB), built once at start.
fn projects_json() -> String {
    let items: Vec<String> = (1..=20)
        .rev()
        .map(|i| {
            format!(
                concat!(
                    r#"{{"project_id":"proj-2026-{:04}","name":"Seed {}","description":null,"#,
                    r#""owner_email":"owner@corp.example","manager_email":"mgr@corp.example","#,
                    r#""group":"platform","cost_center":"CC-100","classification":"poc","#,
                    r#""data_class":"internal","budget_usd":100.0,"lifecycle":"active","killed":false,"#,
                    r#""killed_reason":null,"review":{{"date":"2027-02-26T01:51:44.123456789Z","#,
                    r#""state":"ok","extensions_used":0}},"evidence":{{}},"created_by":"user:admin","#,
                    r#""created_at":"2026-11-28T01:51:44.123456789Z","updated_at":"2026-11-28T01:51:44.123456789Z"}}"#
                ),
                i, i
            )
        })
        .collect();
    format!(r#"{{"projects":[{}],"next_cursor":null}}"#, items.join(","))
}

const JSON: [(header::HeaderName, &str); 1] = [(header::CONTENT_TYPE, "application/json")];

/// One project, as `POST /api/projects` answers (201).
const CREATED: &str = concat!(
    r#"{"project_id":"proj-2026-0001","name":"Pilot","description":null,"#,
    r#""owner_email":"owner@corp.example","manager_email":"mgr@corp.example","#,
    r#""group":"platform","cost_center":"CC-100","classification":"poc","#,
    r#""data_class":"internal","budget_usd":100.0,"lifecycle":"active","killed":false,"#,
    r#""killed_reason":null,"review":{"date":"2027-02-26T01:51:44.123456789Z","#,
    r#""state":"ok","extensions_used":0},"evidence":{},"created_by":"user:admin","#,
    r#""created_at":"2026-11-28T01:51:44.123456789Z","updated_at":"2026-11-28T01:51:44.123456789Z"}"#
);

/// A JSON-RPC `tools/call` result of ~570 bytes (the size of Asgard's
/// `whoami` answer when this was written; today's is about three times that).
const MCP_RESULT: &str = concat!(
    r#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"{\"actor\":\"key:asg_0d75f731\",\"can\":"#,
    r#"[\"read this project\",\"update this project's description and evidence\",\"read guidance (seed_*)\",\"list groups\"],"#,
    r#"\"kind\":\"project_key\",\"project_id\":\"proj-2026-0001\",\"role\":null,\"user\":null}"}],"#,
    r#""structuredContent":{"actor":"key:asg_0d75f731","can":["read this project","#,
    r#""update this project's description and evidence","read guidance (seed_*)","list groups"],"#,
    r#""kind":"project_key","project_id":"proj-2026-0001","role":null,"user":null},"isError":false}}"#
);

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".to_string());
    let projects: &'static str = Box::leak(projects_json().into_boxed_str());

    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ready" }))
        .route(
            "/api/projects",
            get(move || async move { (JSON, projects) }).post(|_b: Bytes| async move {
                (StatusCode::CREATED, JSON, CREATED).into_response()
            }),
        )
        .route(
            "/mcp",
            axum::routing::post(|_b: Bytes| async move { (JSON, MCP_RESULT) }),
        );

    // Same socket setting as Asgard (src/server.rs): replies skip Nagle.
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("bind")
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    eprintln!("floor listening on {addr}");
    axum::serve(listener, app).await.expect("serve");
}
