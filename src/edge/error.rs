//! Mapping domain errors to HTTP, in one place. A handler returns
//! `Result<_, ApiError>`; the response carries the status and an
//! `ErrorBody` extension, and the request-id middleware writes the envelope
//! `{"error": {code, message, hint, field?, request_id}}` and logs 5xx causes
//! once, with the request id the caller sees.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::Error;

pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError(Error::from(e))
    }
}

/// What the middleware needs to render an error envelope.
#[derive(Clone, Debug)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    pub hint: String,
    pub field: Option<String>,
    /// What an ambiguous name matched.
    pub candidates: Option<Vec<serde_json::Value>>,
    /// The internal cause of a 5xx, for the log only.
    pub cause: Option<String>,
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Invalid { .. } | Error::Ambiguous { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::Unauthenticated { .. } | Error::InvalidCredentials => StatusCode::UNAUTHORIZED,
        Error::Forbidden { .. } => StatusCode::FORBIDDEN,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::Conflict { .. } | Error::ProjectFrozen { .. } => StatusCode::CONFLICT,
        Error::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status_of(&e);
        let body = ErrorBody {
            code: e.code().into(),
            message: e.message(),
            hint: e.hint(),
            field: e.field().map(str::to_string),
            candidates: e.candidates().map(<[_]>::to_vec),
            cause: match &e {
                Error::Internal(cause) => Some(format!("{cause:#}")),
                _ => None,
            },
        };
        let mut resp = envelope(status, body);
        match &e {
            Error::Unauthenticated { .. } | Error::InvalidCredentials => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::TooManyAttempts { retry_after } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        resp
    }
}

/// An error response for a code that has no domain variant (400
/// invalid_json, 404 on unknown routes, 405, 413, 415).
pub fn plain(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> Response {
    envelope(
        status,
        ErrorBody {
            code: code.into(),
            message: message.into(),
            hint: hint.into(),
            field: None,
            candidates: None,
            cause: None,
        },
    )
}

fn envelope(status: StatusCode, body: ErrorBody) -> Response {
    // Rendered without the request id here; the middleware adds it.
    let json = render(&body, None);
    let mut resp = (status, [(header::CONTENT_TYPE, "application/json")], json).into_response();
    resp.extensions_mut().insert(body);
    resp
}

pub fn render(body: &ErrorBody, request_id: Option<&str>) -> String {
    let mut inner =
        serde_json::json!({"code": body.code, "message": body.message, "hint": body.hint});
    if let Some(f) = &body.field {
        inner["field"] = serde_json::Value::String(f.clone());
    }
    if let Some(c) = &body.candidates {
        inner["candidates"] = serde_json::Value::Array(c.clone());
    }
    if let Some(r) = request_id {
        inner["request_id"] = serde_json::Value::String(r.to_string());
    }
    serde_json::json!({ "error": inner }).to_string()
}
