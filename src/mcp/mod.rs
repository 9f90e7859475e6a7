//! The MCP door (rmcp only): Streamable HTTP at `/mcp`, stateless JSON
//! responses so any replica can answer any request (no sticky sessions),
//! authenticated before the SDK sees a byte. Tools are thin adapters over the
//! same domain functions the REST API calls.

mod auth;
mod direct;
mod error;
mod server;
mod tools;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::app::App;
use crate::edge::AppState;

pub use server::AsgardMcp;
pub use tools::tool_names;

/// Hosts accepted in `Host` (the DNS-rebinding guard): loopback names,
/// plus the public URL's host when set. `None` = accept any (a non-loopback
/// bind with no public URL configured; a warning is logged at boot).
pub fn allowed_hosts(app: &App) -> Option<Vec<String>> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(p) = &app.config.public_url {
        let host = p
            .split("://")
            .nth(1)
            .unwrap_or("")
            .split('/')
            .next()
            .unwrap_or("");
        hosts.push(host.to_string());
        if let Some((h, _)) = host.rsplit_once(':') {
            hosts.push(h.to_string());
        }
        return Some(hosts);
    }
    if crate::config::is_loopback_bind(&app.config.bind) {
        Some(hosts)
    } else {
        None
    }
}

pub fn router(app: Arc<App>) -> Router<AppState> {
    if allowed_hosts(&app).is_none() {
        tracing::warn!(
            "ASGARD_PUBLIC_URL is not set and the bind address is not loopback: /mcp accepts any Host header; set ASGARD_PUBLIC_URL to enable the DNS-rebinding guard"
        );
    }
    // Host and Origin are checked in `auth` (with our JSON error body), so the
    // SDK's own checks are turned off rather than duplicated.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_max_request_body_bytes(direct::MAX_BODY);
    let factory_app = app.clone();
    let sdk = StreamableHttpService::new(
        move || Ok(AsgardMcp::new(factory_app.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let door = Arc::new(Door {
        app: app.clone(),
        sdk,
        memo: direct::Memo::default(),
    });
    Router::new()
        .route(
            "/mcp",
            any(move |req: Request| {
                let door = door.clone();
                async move { door.serve(req).await }
            }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            app,
            auth::require_credential,
        ))
}

/// `/mcp` after authentication: a plain `tools/call` is answered directly
/// from the tool table, everything else by the SDK.
struct Door {
    app: Arc<App>,
    sdk: StreamableHttpService<AsgardMcp, LocalSessionManager>,
    memo: direct::Memo,
}

impl Door {
    async fn serve(&self, req: Request) -> Response {
        match direct::answer(&self.app, &self.memo, req).await {
            Ok(resp) => resp,
            Err(req) => self.sdk.handle(req).await.into_response(),
        }
    }
}
