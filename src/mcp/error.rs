//! Domain errors as MCP tool results: `isError: true` with a JSON text (and
//! structured content) `{code, message, hint}` an agent can act on.

use rmcp::model::CallToolResult;
use serde_json::json;

use crate::error::Error;

pub fn tool_error(e: Error) -> CallToolResult {
    if let Error::Internal(cause) = &e {
        tracing::error!(cause = %format!("{cause:#}"), "MCP tool failed");
    }
    // Agents see `invalid_argument` where REST says `invalid_request` (docs/mcp.md).
    let code = if e.code() == "invalid_request" {
        "invalid_argument"
    } else {
        e.code()
    };
    let mut body = json!({"code": code, "message": e.message(), "hint": e.hint()});
    if let Some(f) = e.field() {
        body["field"] = json!(f);
    }
    if let Some(c) = e.candidates() {
        body["candidates"] = json!(c);
    }
    // Some clients only read `content`; the same JSON is in both.
    let mut r = CallToolResult::structured_error(body);
    r.is_error = Some(true);
    r
}
