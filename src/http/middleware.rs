//! Cross-cutting HTTP behaviour: request ids, security headers, the error
//! envelope's final rendering (with the request id) and 5xx logging, and
//! authentication of `/api/*` — which runs before routing, so an
//! unauthenticated caller gets 401 before 404 or 405.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::auth::credential::Credential;
use crate::auth::{Principal, resolve};
pub use crate::edge::request_id::{RequestId, request_context};
use crate::error::Error;

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
            match resolve::bearer(
                &app.store,
                app.credentials.as_ref(),
                cred.token,
                resolve::API,
                rid.clone(),
            )
            .await
            {
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
