//! Cross-cutting HTTP behaviour: request ids, security headers, the error
//! envelope's final rendering (with the request id) and 5xx logging, and
//! authentication of `/api/*` — which runs before routing, so an
//! unauthenticated caller gets 401 before 404 or 405.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ErrorBody, render};
use crate::auth::credential::Credential;
use crate::auth::{Principal, resolve};
use crate::error::Error;

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn acceptable_incoming(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn new_id() -> String {
    let mut b = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut b);
    hex::encode(b)
}

pub async fn request_context(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_incoming(v))
        .map(str::to_string)
        .unwrap_or_else(new_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = next.run(req).await;

    if let Some(body) = resp.extensions_mut().remove::<ErrorBody>() {
        if resp.status().is_server_error() {
            tracing::error!(request_id = %id, %method, %path, status = resp.status().as_u16(),
                cause = body.cause.as_deref().unwrap_or(""), "request failed");
        }
        let status = resp.status();
        let mut headers = std::mem::take(resp.headers_mut());
        headers.remove(header::CONTENT_LENGTH);
        resp = Response::new(Body::from(render(&body, Some(&id))));
        *resp.status_mut() = status;
        *resp.headers_mut() = headers;
    }
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
            ),
        );
    }
    resp
}

/// A NUL can only reach a URL as `%00`. No id, filter or name may hold one
/// (Postgres refuses it in text), so it is refused here for every route,
/// after authentication (401 still comes first on `/api`).
pub async fn refuse_nul(req: Request, next: Next) -> Response {
    let has_nul = req
        .uri()
        .path_and_query()
        .is_some_and(|pq| pq.as_str().contains("%00"));
    if has_nul {
        return super::error::plain(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the URL contains a NUL character (%00)",
            "remove %00 from the path and the query",
        );
    }
    next.run(req).await
}

/// Families of `/api` paths that are public as a whole: an unknown path in
/// them answers 404, not 401 (the single sign-on redirects, and the gateway
/// that authenticates its own callers).
const PUBLIC_FAMILIES: [&str; 2] = ["/api/auth/oidc/", "/api/gateway/"];

/// `/api` paths that work without a session: the routes registered
/// `.public()` in the router, and the public families.
pub fn is_public_api(path: &str) -> bool {
    super::public_paths().contains(path) || PUBLIC_FAMILIES.iter().any(|f| path.starts_with(f))
}

fn host_of(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
}

pub fn is_loopback_host(host: &str) -> bool {
    super::host::is_loopback(host)
}

/// Cookie-authenticated writes must come from our own origin.
fn same_origin(req: &Request, public_url: Option<&str>) -> bool {
    if let Some(site) = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    if public_url.is_some_and(|p| p.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let Some(host) = host_of(req) else {
        return false;
    };
    let bare = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
    bare.eq_ignore_ascii_case(host)
}

pub async fn authenticate(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !(path == "/api" || path.starts_with("/api/")) || is_public_api(path) {
        return next.run(req).await;
    }
    let rid = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let principal = match Credential::from_headers(req.headers()) {
        Some(cred) => {
            let via_cookie = cred.via_cookie();
            match resolve::bearer(&app.store, cred.token, resolve::API, rid.clone()).await {
                Ok(Some(p)) => {
                    let unsafe_method =
                        !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
                    if via_cookie
                        && unsafe_method
                        && !same_origin(&req, app.config.public_url.as_deref())
                    {
                        return super::error::plain(
                            StatusCode::FORBIDDEN,
                            "cross_origin_refused",
                            "a cookie-authenticated change must come from Asgard's own origin",
                            "use the dashboard, or send the token as `Authorization: Bearer`",
                        );
                    }
                    Some(p)
                }
                Ok(None) => None,
                Err(e) => return ApiError(e).into_response(),
            }
        }
        None => None,
    };
    let principal = match principal {
        Some(p) => p,
        None if app.dev_insecure && host_of(&req).is_some_and(is_loopback_host) => {
            Principal::dev_insecure(rid)
        }
        None => return ApiError(Error::unauthenticated()).into_response(),
    };
    req.extensions_mut().insert(principal);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        assert!(acceptable_incoming("abc-123_x.y"));
        assert!(!acceptable_incoming("a b"));
        assert!(!acceptable_incoming(&"a".repeat(65)));
        assert!(!acceptable_incoming("<script>"));
    }
}
