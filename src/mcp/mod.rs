//! The MCP door (rmcp only): Streamable HTTP at `/mcp`, stateless JSON
//! responses so any replica can answer any request (no sticky sessions),
//! authenticated before the SDK sees a byte. Tools are thin adapters over the
//! same domain functions the REST API calls.

mod auth;
mod error;
mod provisioning_tools;
mod server;
mod tools;

use std::sync::Arc;

use axum::Router;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::app::App;
use crate::http::AppState;

pub use server::AsgardMcp;
pub use tools::tool_names;

/// Hosts accepted in `Host` (DNS-rebinding guard, SPEC §5.1): loopback names,
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
        .with_max_request_body_bytes(1024 * 1024);
    let factory_app = app.clone();
    let service = StreamableHttpService::new(
        move || Ok(AsgardMcp::new(factory_app.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route_service("/mcp", service)
        .route_layer(axum::middleware::from_fn_with_state(
            app,
            auth::require_credential,
        ))
}
