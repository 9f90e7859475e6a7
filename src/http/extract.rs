//! Extractors that turn request parts into domain inputs with our error
//! envelope: JSON bodies (missing body = `{}`; malformed → 400 invalid_json;
//! schema mismatch → 422 naming the field), the authenticated `Principal`
//! (put in extensions by the auth middleware), and the client IP.

use crate::edge::body_deadline::body_timed_out;
use crate::edge::nul::nul_path;
use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::{ApiError, plain};
use crate::auth::Principal;
use crate::error::Error;

/// A JSON body deserialised into `T` with field-naming errors.
pub struct Json<T>(pub T);

pub struct BodyRejection(Response);

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.to_ascii_lowercase());
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            let status = e.status();
            if super::body_deadline::is_timeout(&e) {
                BodyRejection(body_timed_out())
            } else if status == StatusCode::PAYLOAD_TOO_LARGE {
                BodyRejection(plain(
                    status,
                    "payload_too_large",
                    "the request body is larger than 1 MiB",
                    "send a smaller body",
                ))
            } else {
                BodyRejection(plain(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    "the request body could not be read",
                    "send the body again",
                ))
            }
        })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        if let Some(ct) = ct
            && !(ct.starts_with("application/json") || ct.contains("+json"))
            && bytes != b"{}"
        {
            return Err(BodyRejection(plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!("content-type `{ct}` is not JSON"),
                "send `content-type: application/json` with a JSON body",
            )));
        }
        // Syntax first (400), then shape (422), so the two are told apart.
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
            BodyRejection(plain(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {e}"),
                "send a well-formed JSON object",
            ))
        })?;
        // Serde reads a struct from an array by position; an API body must
        // be an object, so anything else is refused here for every route.
        if !value.is_object() {
            let e = Error::invalid_hint(
                "(body)",
                "must be a JSON object",
                "send a JSON object of the documented fields",
            );
            return Err(BodyRejection(ApiError(e).into_response()));
        }
        if let Some(field) = nul_path(&value) {
            let e = Error::invalid(field, "must not contain a NUL character (\\u0000)");
            return Err(BodyRejection(ApiError(e).into_response()));
        }
        from_value(value)
            .map(Json)
            .map_err(|e| BodyRejection(ApiError(e).into_response()))
    }
}

/// Deserialise a JSON value into `T`, turning serde's message into an
/// `Invalid` error that names the field.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Error> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        // For unknown and missing fields the path already ends at the key
        // (unknown) or at its parent (missing).
        let field = if let Some(rest) = msg.strip_prefix("missing field `") {
            let name = rest.split('`').next().unwrap_or("");
            if path == "." {
                name.to_string()
            } else {
                format!("{path}.{name}")
            }
        } else if let Some(rest) = msg.strip_prefix("unknown field `") {
            if path == "." {
                rest.split('`').next().unwrap_or("").to_string()
            } else {
                path
            }
        } else if path == "." {
            "(body)".to_string()
        } else {
            path
        };
        Error::invalid(field, msg)
    })
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError(Error::unauthenticated()))
    }
}

/// The client IP: the socket peer, or the first untrusted hop of
/// `X-Forwarded-For` when the peer is a trusted proxy.
pub struct ClientIp {
    pub ip: IpAddr,
    pub peer: IpAddr,
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        Ok(ClientIp {
            ip: client_ip(peer, parts, &state.config.trusted_proxies),
            peer,
        })
    }
}

pub fn is_trusted(ip: IpAddr, trusted: &[ipnet::IpNet]) -> bool {
    trusted.iter().any(|n| n.contains(&ip))
}

fn client_ip(peer: IpAddr, parts: &Parts, trusted: &[ipnet::IpNet]) -> IpAddr {
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let chain = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Walk from the right: the first address that is not a trusted proxy is the client.
    chain
        .split(',')
        .rev()
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .find(|ip| !is_trusted(*ip, trusted))
        .unwrap_or(peer)
}

/// Whether the request reached us over TLS: only believed from a trusted proxy.
pub fn came_over_tls(
    parts_headers: &http::HeaderMap,
    peer: Option<IpAddr>,
    trusted: &[ipnet::IpNet],
) -> bool {
    peer.is_some_and(|p| is_trusted(p, trusted))
        && parts_headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}
