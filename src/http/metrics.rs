//! `GET /metrics` and the middleware that feeds it.
//!
//! Access: open to a caller on loopback (a scraper on the same
//! host or a sidecar), open to anyone with `ASGARD_METRICS_PUBLIC=1`, and
//! otherwise only to an admin or auditor session (Bearer or cookie) or PAT. A request that came
//! through a proxy (a trusted-proxy peer, or `Forwarded`, `X-Forwarded-For`
//! or `X-Real-IP`) is not treated as loopback, because a proxy on the same
//! host would make every caller look local.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::extract::ClientIp;
use crate::auth::credential::Credential;
use crate::auth::resolve;
use crate::error::Error;

/// Route label for a response that no route answered (or that was answered
/// before routing, like the 401 of an unauthenticated `/api` call).
const UNMATCHED: &str = "(unmatched)";

/// Innermost, on matched routes only (`route_layer`): carry the matched
/// route template out on the response, where `track` reads it.
pub async fn mark_route(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let mut resp = next.run(req).await;
    if let Some(m) = matched {
        resp.extensions_mut().insert(m);
    }
    resp
}

/// Outermost: count and time every request by method, route and status.
pub async fn track(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = crate::metrics::method_label(req.method());
    let resp = next.run(req).await;
    let route = resp
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str())
        .unwrap_or(UNMATCHED);
    app.metrics.observe_http(
        method,
        route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// A scraper on this host, talking to us directly: the socket peer is
/// loopback (IPv4-mapped included) and not a trusted proxy, no proxy header
/// says the request came from elsewhere, and the Host is a loopback name (a
/// browser page on this host that rebinds its own domain to 127.0.0.1 sends
/// that domain as Host).
fn is_local(app: &AppState, client: &ClientIp, headers: &HeaderMap) -> bool {
    let peer = client.peer.to_canonical();
    peer.is_loopback()
        && !super::extract::is_trusted(client.peer, &app.config.trusted_proxies)
        && !["forwarded", "x-forwarded-for", "x-real-ip"]
            .iter()
            .any(|h| headers.contains_key(*h))
        && headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(super::middleware::is_loopback_host)
}

pub async fn metrics(
    State(app): State<AppState>,
    client: ClientIp,
    headers: HeaderMap,
) -> Response {
    let local = is_local(&app, &client, &headers);
    if !(local || app.config.metrics_public) {
        let principal = match Credential::from_headers(&headers) {
            Some(c) => {
                resolve::bearer(
                    &app.store,
                    app.credentials.as_ref(),
                    c.token,
                    resolve::API,
                    None,
                )
                .await
            }
            None => Ok(None),
        };
        match principal {
            Err(e) => return ApiError(e).into_response(),
            Ok(None) => {
                return ApiError(Error::Unauthenticated {
                    message: "metrics are open on loopback only".into(),
                    hint: "scrape from the Asgard host, send an admin or auditor token as `Authorization: Bearer`, or set ASGARD_METRICS_PUBLIC=1".into(),
                })
                .into_response();
            }
            Ok(Some(p)) if !p.reads_everything() => {
                return ApiError(Error::forbidden(
                    "metrics need the admin or auditor role",
                    "use an admin's or auditor's personal access token",
                ))
                .into_response();
            }
            Ok(Some(_)) => {}
        }
    }
    // The portfolio gauges are measured at scrape time (one read), so a
    // scrape sees the database as it is; a failed read keeps the last ones.
    match crate::governance::portfolio::organisation(app.registry()).await {
        Ok(m) => app.metrics.set_governance(&m),
        Err(e) => tracing::warn!(error = %e, "governance metrics not refreshed for /metrics"),
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
        .into_response()
}
