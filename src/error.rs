//! The one domain error type. Every domain function returns `Result<T, Error>`;
//! the HTTP layer (`http::error`) and the MCP layer (`mcp::error`) each map it
//! once, so a caller's mistake gets the same stable `code` on both doors.
//! Internal failures carry their cause for the log, never for the caller.

use std::time::Duration;

/// A failure a caller can see. `code` values are part of the API contract.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field failed validation. `field` is a dotted path into the input.
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        message: String,
        hint: String,
    },
    /// A name that identifies more than one thing; `candidates` lists them
    /// so the caller can pick one by id.
    #[error("{field}: {message}")]
    Ambiguous {
        field: String,
        message: String,
        hint: String,
        candidates: Vec<serde_json::Value>,
    },
    #[error("authentication required")]
    Unauthenticated { message: String, hint: String },
    #[error("forbidden: {message}")]
    Forbidden { message: String, hint: String },
    #[error("{what} not found")]
    NotFound { what: String, hint: String },
    #[error("conflict: {message}")]
    Conflict { message: String, hint: String },
    #[error("project frozen: {message}")]
    ProjectFrozen { message: String },
    #[error("too many attempts")]
    TooManyAttempts { retry_after: Duration },
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let hint = format!("fix `{field}` and send the request again");
        Error::Invalid {
            field,
            message: message.into(),
            hint,
        }
    }

    pub fn invalid_hint(
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn forbidden(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Forbidden {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        let what = what.into();
        Error::NotFound {
            hint: format!("check the {what} id; you may also lack access to it"),
            what,
        }
    }

    pub fn conflict(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn unauthenticated() -> Self {
        Error::Unauthenticated {
            message: "this route needs a signed-in user".into(),
            hint: "log in at POST /api/auth/login and send the token as `Authorization: Bearer <token>` (or use a personal access token)".into(),
        }
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        Error::Internal(e.into())
    }

    /// Stable snake_case code for the error envelope and MCP tool errors.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid { .. } | Error::Ambiguous { .. } => "invalid_request",
            Error::Unauthenticated { .. } => "authentication_required",
            Error::Forbidden { .. } => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::Conflict { .. } => "conflict",
            Error::ProjectFrozen { .. } => "project_frozen",
            Error::TooManyAttempts { .. } => "too_many_attempts",
            Error::InvalidCredentials => "invalid_credentials",
            Error::Internal(_) => "internal_error",
        }
    }

    /// The human sentence shown to the caller (never the internal cause).
    pub fn message(&self) -> String {
        match self {
            Error::Invalid { field, message, .. } | Error::Ambiguous { field, message, .. } => {
                format!("{field}: {message}")
            }
            Error::Unauthenticated { message, .. }
            | Error::Forbidden { message, .. }
            | Error::Conflict { message, .. }
            | Error::ProjectFrozen { message } => message.clone(),
            Error::NotFound { what, .. } => format!("{what} not found"),
            Error::TooManyAttempts { retry_after } => format!(
                "too many failed sign-in attempts; try again in {} seconds",
                retry_after.as_secs().max(1)
            ),
            Error::InvalidCredentials => "invalid username or password".into(),
            Error::Internal(_) => "an internal error occurred".into(),
        }
    }

    pub fn hint(&self) -> String {
        match self {
            Error::Invalid { hint, .. }
            | Error::Ambiguous { hint, .. }
            | Error::Unauthenticated { hint, .. }
            | Error::Forbidden { hint, .. }
            | Error::NotFound { hint, .. }
            | Error::Conflict { hint, .. } => hint.clone(),
            Error::ProjectFrozen { .. } => {
                "ask the project's owner or an admin to unkill it (POST /api/projects/{id}/unkill)"
                    .into()
            }
            Error::TooManyAttempts { .. } => "wait, then retry with the right password".into(),
            Error::InvalidCredentials => "check the username (or email) and password".into(),
            Error::Internal(_) => {
                "retry later; if it persists, give the request id to an operator".into()
            }
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } | Error::Ambiguous { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The things an ambiguous name matched.
    pub fn candidates(&self) -> Option<&[serde_json::Value]> {
        match self {
            Error::Ambiguous { candidates, .. } => Some(candidates),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Internal(e.into())
    }
}

/// True when a database error is a unique-constraint violation (both engines),
/// so callers can turn it into a 409 instead of a 500.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}
