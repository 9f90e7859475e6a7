//! `tools/call` answered without the SDK's per-request machinery.
//!
//! In stateless mode rmcp builds a service for every POST: a peer, a
//! serve loop on its own task, a one-shot transport and a tree of
//! cancellation tokens, to answer one message. For the common case, a
//! single `tools/call` whose headers and body need none of the protocol's
//! optional parts, this module answers from the same tool table with the
//! same bytes. Anything else (initialize, tools/list, batches, `_meta`,
//! protocol 2026-07-28 and later, unusual headers, a body that does not
//! parse) goes to the SDK untouched, so the SDK stays the judge of every
//! case this path does not take.
//!
//! `whoami` answers are memoised per identity: the answer is a pure
//! function of `tools::whoami_subject`, and a revoked credential is
//! refused by authentication before this code runs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rmcp::model::{
    CallToolResult, JsonObject, JsonRpcVersion2_0, ProtocolVersion, RequestId, ServerResult,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::tools;
use crate::app::App;
use crate::auth::Principal;

/// The largest body /mcp reads (the same bound the SDK is configured with).
pub(super) const MAX_BODY: usize = 1024 * 1024;

/// Memoised answers kept at most; past it the memo starts over.
const MEMO_CAP: usize = 1024;

#[derive(Default)]
pub(super) struct Memo {
    answers: RwLock<HashMap<String, Arc<RawValue>>>,
}

impl Memo {
    fn get(&self, key: &str) -> Option<Arc<RawValue>> {
        self.answers.read().ok()?.get(key).cloned()
    }

    fn put(&self, key: String, answer: Arc<RawValue>) {
        if let Ok(mut m) = self.answers.write() {
            if m.len() >= MEMO_CAP {
                m.clear();
            }
            m.insert(key, answer);
        }
    }
}

/// A JSON-RPC `tools/call` request with nothing the direct path does not
/// handle: any other member (`_meta`, `task`, …) fails the parse.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Call {
    #[allow(dead_code)]
    jsonrpc: JsonRpcVersion2_0,
    id: RequestId,
    method: String,
    params: CallParams,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallParams {
    name: String,
    arguments: Option<JsonObject>,
}

/// The response envelope, member for member what the SDK writes.
#[derive(Serialize)]
struct Envelope<'a, R: Serialize + ?Sized> {
    jsonrpc: JsonRpcVersion2_0,
    id: &'a RequestId,
    result: &'a R,
}

/// Answer `req` here if it is a plain `tools/call`; otherwise hand it back
/// (body intact) for the SDK.
pub(super) async fn answer(app: &App, memo: &Memo, req: Request) -> Result<Response, Request> {
    if req.method() != Method::POST || !plain_headers(req.headers()) {
        return Err(req);
    }
    let (parts, body) = req.into_parts();
    // The auth layer has already read and bounded the body; a failure here
    // is unreachable in practice and refused like an oversized body.
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return Ok(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    };
    let call = match serde_json::from_slice::<Call>(&bytes) {
        Ok(c) if c.method == "tools/call" => c,
        _ => return Err(Request::from_parts(parts, Body::from(bytes))),
    };
    let Some(p) = parts.extensions.get::<Principal>() else {
        return Err(Request::from_parts(parts, Body::from(bytes)));
    };
    let body = match respond(app, memo, p, call).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(cause = %e, "MCP answer could not be serialized");
            return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

async fn respond(
    app: &App,
    memo: &Memo,
    p: &Principal,
    call: Call,
) -> Result<Vec<u8>, serde_json::Error> {
    let args = call.params.arguments.unwrap_or_default();
    let name = call.params.name;
    let entry = tools::find(&name);
    let memo_key = match entry {
        Some(e) if e.answers_by_identity() && args.is_empty() => tools::whoami_subject(p).ok(),
        _ => None,
    };
    if let Some(hit) = memo_key.as_deref().and_then(|k| memo.get(k)) {
        return envelope(&call.id, &*hit);
    }
    let result = match entry {
        Some(e) => e.call(app, p, args).await,
        None => tools::unknown_tool(&name),
    };
    let result = legacy_shape(result);
    match memo_key {
        Some(k) => {
            let raw: Arc<RawValue> = serde_json::value::to_raw_value(&result)?.into();
            let out = envelope(&call.id, &*raw);
            memo.put(k, raw);
            out
        }
        None => envelope(&call.id, &result),
    }
}

fn envelope<R: Serialize + ?Sized>(
    id: &RequestId,
    result: &R,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Envelope {
        jsonrpc: JsonRpcVersion2_0,
        id,
        result,
    })
}

/// The result as the SDK sends it to a peer on a protocol before
/// 2026-07-28 (the only ones this path takes).
fn legacy_shape(r: CallToolResult) -> ServerResult {
    let mut r = ServerResult::CallToolResult(r);
    r.strip_result_type_for_legacy_peer();
    r.strip_non_object_output_for_legacy_peer();
    r
}

/// Headers the SDK would accept for a stateless JSON answer and that ask
/// for nothing this path leaves out. Stricter than the SDK on purpose: a
/// request that fails here is still answered, by the SDK.
fn plain_headers(h: &HeaderMap) -> bool {
    let json_body = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let essence = v.split_once(';').map_or(v, |(e, _)| e);
            essence.trim().eq_ignore_ascii_case("application/json")
        });
    json_body && accepts_json_and_sse(h) && legacy_version(h) && !h.contains_key("mcp-session-id")
}

/// `Accept` lists both `application/json` and `text/event-stream`, with no
/// parameters or quoting anywhere (a `q` could exclude one of them).
fn accepts_json_and_sse(h: &HeaderMap) -> bool {
    let (mut json, mut sse) = (false, false);
    for v in h.get_all(header::ACCEPT) {
        let Ok(v) = v.to_str() else { return false };
        if v.contains([';', '"']) {
            return false;
        }
        for t in v.split(',').map(str::trim) {
            json |= t.eq_ignore_ascii_case("application/json");
            sse |= t.eq_ignore_ascii_case("text/event-stream");
        }
    }
    json && sse
}

/// No `MCP-Protocol-Version`, or exactly one naming a known version from
/// before 2026-07-28 (which adds per-request metadata and standard headers).
fn legacy_version(h: &HeaderMap) -> bool {
    let mut values = h.get_all("mcp-protocol-version").iter();
    let Some(v) = values.next() else { return true };
    if values.next().is_some() {
        return false;
    }
    let Ok(v) = v.to_str() else { return false };
    v < ProtocolVersion::V_2026_07_28.as_str()
        && ProtocolVersion::KNOWN_VERSIONS
            .iter()
            .any(|k| k.as_str() == v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    const BASE: [(&str, &str); 3] = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2025-11-25"),
    ];

    #[test]
    fn takes_only_plain_requests() {
        assert!(plain_headers(&headers(&BASE)));
        assert!(plain_headers(&headers(&BASE[..2])));
        let with = |extra: (&'static str, &'static str)| {
            let mut h = headers(&BASE);
            h.append(extra.0, HeaderValue::from_static(extra.1));
            plain_headers(&h)
        };
        assert!(!with(("mcp-session-id", "x")));
        assert!(
            !with(("mcp-protocol-version", "2025-11-25")),
            "two versions"
        );
        let only = |pairs: &[(&'static str, &'static str)]| plain_headers(&headers(pairs));
        assert!(!only(&[
            BASE[0],
            BASE[1],
            ("mcp-protocol-version", "2026-07-28")
        ]));
        assert!(!only(&[
            BASE[0],
            BASE[1],
            ("mcp-protocol-version", "1999-01-01")
        ]));
        assert!(!only(&[BASE[0], ("accept", "application/json")]));
        assert!(!only(&[
            BASE[0],
            ("accept", "application/json, text/event-stream;q=0")
        ]));
        assert!(!only(&[("content-type", "text/plain"), BASE[1]]));
        assert!(only(&[
            ("content-type", "application/json; charset=utf-8"),
            BASE[1]
        ]));
    }

    #[test]
    fn parses_only_plain_calls() {
        let ok = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
        assert!(serde_json::from_slice::<Call>(ok.as_bytes()).is_ok());
        for other in [
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami","_meta":{}}}"#,
            r#"{"jsonrpc":"1.0","id":7,"method":"tools/call","params":{"name":"whoami"}}"#,
            r#"{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{"name":"whoami"}}"#,
            r#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"whoami"}}"#,
            r#"[{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"whoami"}}]"#,
        ] {
            assert!(
                serde_json::from_slice::<Call>(other.as_bytes()).is_err(),
                "{other}"
            );
        }
    }
}
