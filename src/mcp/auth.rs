//! Authentication for `/mcp`, before the SDK: a project key or a PAT as
//! Bearer (never a session), the Host guard and the Origin check. Failures are
//! 401 with a JSON body that says what a valid credential is and where to
//! get one, plus `www-authenticate: Bearer`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::credential::{Authorization, authorization};
use crate::auth::resolve;
use crate::edge::AppState;
use crate::edge::error::plain;
use crate::edge::host::host_of_authority;
use crate::edge::request_id::RequestId;

fn unauthorized(message: &str) -> Response {
    let mut r = plain(
        StatusCode::UNAUTHORIZED,
        "authentication_required",
        message,
        "send `Authorization: Bearer <key>` with a project key (asg_…, minted at POST /api/projects/{id}/keys or in the dashboard) or a personal access token (asg_pat_…, minted at POST /api/auth/tokens)",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"asgard\""),
    );
    r
}

/// Whether the host of `authority` is one of `allowed` (hosts, or
/// `host:port` entries whose port is ignored). A value that does not parse
/// as an authority is refused.
fn host_allowed(authority: &str, allowed: &[String]) -> bool {
    let Some(host) = host_of_authority(authority) else {
        return false;
    };
    allowed.iter().any(|a| {
        // "::1" is listed bare, which is not an authority.
        a.parse::<std::net::Ipv6Addr>()
            .ok()
            .map(|ip| ip.to_string())
            .or_else(|| host_of_authority(a))
            .is_some_and(|a| a == host)
    })
}

pub async fn require_credential(
    State(app): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let allowed = super::allowed_hosts(&app);
    if let Some(allowed) = &allowed {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !host_allowed(host, allowed) {
            return plain(
                StatusCode::FORBIDDEN,
                "host_not_allowed",
                format!("Host `{host}` is not accepted on /mcp"),
                "connect through ASGARD_PUBLIC_URL (operators: set it to the URL agents use)",
            );
        }
        if let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
        {
            let o_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
            if !host_allowed(o_host, allowed) {
                return plain(
                    StatusCode::FORBIDDEN,
                    "origin_not_allowed",
                    format!("Origin `{origin}` is not accepted on /mcp"),
                    "MCP clients should not send a foreign Origin; browsers may only call /mcp from Asgard's own origin",
                );
            }
        }
    }
    let tok = match authorization(req.headers()) {
        Authorization::Bearer(t) => t.to_string(),
        Authorization::Absent => return unauthorized("/mcp needs a credential"),
        Authorization::Unusable => {
            return unauthorized("the Authorization header must be `Bearer <token>`");
        }
    };
    let rid = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    match resolve::bearer(
        &app.store,
        app.credentials.as_ref(),
        &tok,
        resolve::MCP,
        rid,
    )
    .await
    {
        Ok(Some(p)) => {
            req.extensions_mut().insert(p);
            match screen_body(req).await {
                Ok(req) => next.run(req).await,
                Err(resp) => resp,
            }
        }
        Ok(None) => unauthorized(
            "the credential is unknown, revoked, expired, or its project is frozen or decommissioned (session tokens are not accepted here)",
        ),
        Err(e) => crate::edge::error::ApiError(e).into_response(),
    }
}

const MAX_BODY: usize = 1024 * 1024;

fn jsonrpc_error(status: StatusCode, code: i64, message: String) -> Response {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The rest of an oversized body is not read; the connection cannot be reused.
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// Read a POST body (bounded) and answer syntax errors with JSON-RPC errors
/// (-32700 parse error, -32600 invalid request) before the SDK, which would
/// answer them with a plain-text 4xx.
async fn screen_body(req: Request) -> Result<Request, Response> {
    if req.method() != http::Method::POST {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) if crate::edge::body_deadline::is_timeout(&e) => {
            return Err(crate::edge::body_deadline::body_timed_out());
        }
        Err(_) => {
            return Err(jsonrpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                -32600,
                format!("request body larger than {MAX_BODY} bytes"),
            ));
        }
    };
    // Syntax is checked without building a tree (the SDK parses the body
    // again); the shape check needs only the first tokens.
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
        return Err(jsonrpc_error(
            StatusCode::BAD_REQUEST,
            -32700,
            format!("parse error: {e}"),
        ));
    }
    if !object_or_nonempty_array(&bytes) {
        return Err(jsonrpc_error(
            StatusCode::BAD_REQUEST,
            -32600,
            "invalid request: expected a JSON-RPC object".into(),
        ));
    }
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// Whether valid JSON text is an object or a non-empty array.
fn object_or_nonempty_array(json: &[u8]) -> bool {
    let mut rest = json.iter().filter(|b| !b.is_ascii_whitespace());
    match rest.next() {
        Some(b'{') => true,
        Some(b'[') => rest.next() != Some(&b']'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{host_allowed, object_or_nonempty_array};

    #[test]
    fn shapes() {
        for ok in [&b"{}"[..], b" {\"a\":1}", b"[1]", b" [ {} ]"] {
            assert!(object_or_nonempty_array(ok));
        }
        for bad in [&b"[]"[..], b" [ ] ", b"1", b"\"x\"", b"null"] {
            assert!(!object_or_nonempty_array(bad));
        }
    }

    #[test]
    fn hosts() {
        let a: Vec<String> = [
            "localhost",
            "127.0.0.1",
            "::1",
            "[::1]",
            "asgard.example.com",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for ok in [
            "localhost:8080",
            "127.0.0.1",
            "[::1]:80",
            "asgard.example.com",
            "ASGARD.example.com:443",
        ] {
            assert!(host_allowed(ok, &a), "{ok}");
        }
        for bad in [
            "evil.com",
            "evil.com:8080",
            "",
            "127.0.0.2",
            "localhost:1@evil.com",
            "localhost.evil.com",
            "localhost.evil.com:8080",
            "[::1]x",
            "[::1]:80@evil.com",
            "asgard.example.com.evil.com",
            "localhost:abc",
        ] {
            assert!(!host_allowed(bad, &a), "{bad}");
        }
    }
}
