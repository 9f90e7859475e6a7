//! The request id every answer carries (`x-request-id`, and `request_id` in
//! error bodies): taken from the caller when it is short and plain, else
//! made here. Set for `/api` and `/mcp` alike, before routing; it also
//! renders the error envelope with the id, adds the security headers, and
//! logs 5xx answers with their cause.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::error::{ErrorBody, render};

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
