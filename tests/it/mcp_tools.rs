//! MCP tools over HTTP: every listed tool dispatches, every limit an
//! `inputSchema` advertises is enforced on its argument, a plain
//! `tools/call` answered before the SDK is byte for byte what the SDK
//! answers, and a memoised `whoami` follows the credential (revoked: 401 at
//! once; role changed: the new role at once).

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::support::{Engine, Opts, TestApp};

const PLAIN: [(&str, &str); 2] = [
    ("accept", "application/json, text/event-stream"),
    ("mcp-protocol-version", "2025-11-25"),
];

/// An `Accept` with a parameter: the SDK accepts it, the direct path
/// leaves it to the SDK (see `src/mcp/direct.rs`).
const VIA_SDK: [(&str, &str); 2] = [
    ("accept", "application/json;q=1, text/event-stream"),
    ("mcp-protocol-version", "2025-11-25"),
];

async fn rpc_raw(
    app: &TestApp,
    tok: &str,
    headers: &[(&str, &str)],
    method: &str,
    params: Value,
) -> (u16, String) {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let r = app
        .send(
            Method::POST,
            "/mcp",
            Some(tok),
            headers,
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await;
    (r.status, r.text)
}

/// A `tools/call`; returns the result object (asserting HTTP 200).
async fn call(app: &TestApp, tok: &str, tool: &str, args: Value) -> Value {
    let (status, text) = rpc_raw(
        app,
        tok,
        &PLAIN,
        "tools/call",
        json!({"name": tool, "arguments": args}),
    )
    .await;
    assert_eq!(status, 200, "{tool}: {text}");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{tool}: {text}"));
    v["result"].clone()
}

/// `(code, field)` of an `isError` result; `None` when the call succeeded.
fn refusal(r: &Value) -> Option<(String, String)> {
    if r["isError"] != true {
        return None;
    }
    let sc = &r["structuredContent"];
    Some((
        sc["code"].as_str().unwrap_or("").to_string(),
        sc["field"].as_str().unwrap_or("").to_string(),
    ))
}

async fn tools(app: &TestApp, tok: &str) -> Vec<Value> {
    let (status, text) = rpc_raw(app, tok, &PLAIN, "tools/list", json!({})).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["result"]["tools"].as_array().cloned().unwrap_or_default()
}

struct World {
    app: TestApp,
    admin: String,
    pat: String,
    key: String,
    pid: String,
}

async fn world(engine: Engine) -> World {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    let pat = app.mint_pat(&admin, "tools").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let pid = app.register_named(&admin, "Tool checks").await;
    let key = app.mint_key(&admin, &pid, "agent").await["key"]
        .as_str()
        .unwrap()
        .to_string();
    World {
        app,
        admin,
        pat,
        key,
        pid,
    }
}

/// Plausible values for the required arguments of every tool.
fn minimal_args(schema: &Value, pid: &str) -> Value {
    let mut args = Map::new();
    for r in schema["required"].as_array().into_iter().flatten() {
        let k = r.as_str().unwrap();
        let v = match k {
            "name" => json!("tool-check"),
            "service" => json!("demo-token"),
            "id" => json!("core"),
            "secret_ref" => json!(format!("asgard://secrets/{pid}/demo-token/x/token")),
            _ => json!("nope"),
        };
        args.insert(k.to_string(), v);
    }
    if schema["properties"].get("project_id").is_some() {
        args.insert("project_id".into(), json!(pid));
    }
    Value::Object(args)
}

async fn every_listed_tool_dispatches(engine: Engine) {
    let w = world(engine).await;
    // What an unknown tool gets: the signature no listed tool may answer.
    let unknown = refusal(&call(&w.app, &w.pat, "drop_database", json!({})).await);
    assert_eq!(
        unknown,
        Some(("invalid_argument".to_string(), "name".to_string()))
    );
    let listed = tools(&w.app, &w.pat).await;
    assert_eq!(listed.len(), 22, "the tool list changed: update this test");
    for t in &listed {
        let name = t["name"].as_str().unwrap();
        let args = minimal_args(&t["inputSchema"], &w.pid);
        let r = call(&w.app, &w.pat, name, args.clone()).await;
        assert_ne!(
            refusal(&r),
            unknown,
            "{name} {args} answered like an unknown tool: {r}"
        );
        assert_ne!(
            refusal(&r).map(|(c, _)| c).as_deref(),
            Some("internal_error"),
            "{name}: {r}"
        );
    }
}

/// A value that breaks one limit of `spec`, and which limit.
fn violations(spec: &Value) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let n = |k: &str| spec.get(k).and_then(Value::as_f64);
    if let Some(max) = n("maxLength") {
        out.push(("maxLength", json!("x".repeat(max as usize + 1))));
    }
    if n("minLength").is_some_and(|m| m >= 1.0) {
        out.push(("minLength", json!("")));
    }
    if let Some(min) = n("minimum") {
        out.push(("minimum", json!(min - 1.0)));
    }
    if let Some(max) = n("maximum") {
        out.push(("maximum", json!(max + 1.0)));
    }
    if spec.get("pattern").is_some() {
        out.push(("pattern", json!("!!")));
    }
    if spec.get("enum").is_some() {
        out.push(("enum", json!("zzz-not-a-choice")));
    }
    // Integer-typed limits get integers (1.0 would fail on type instead).
    if spec["type"] == "integer" {
        for (_, v) in out.iter_mut() {
            if let Some(f) = v.as_f64() {
                *v = json!(f as i64);
            }
        }
    }
    out
}

async fn advertised_limits_are_enforced(engine: Engine) {
    let w = world(engine).await;
    // The limit that was advertised and not checked, at and past the edge.
    let at = call(
        &w.app,
        &w.key,
        "seed_plan",
        json!({"task": "t".repeat(4000)}),
    )
    .await;
    assert_eq!(refusal(&at), None, "{at}");
    let past = call(
        &w.app,
        &w.key,
        "seed_plan",
        json!({"task": "t".repeat(4001)}),
    )
    .await;
    assert_eq!(
        refusal(&past),
        Some(("invalid_argument".to_string(), "task".to_string()))
    );
    // Nested items are named by position.
    let r = call(
        &w.app,
        &w.key,
        "seed_plan",
        json!({"languages": ["rust", 7]}),
    )
    .await;
    assert_eq!(
        refusal(&r),
        Some(("invalid_argument".to_string(), "languages[1]".to_string()))
    );
    // list_requests' page size is refused outside 1..=500, not clamped.
    for bad in [0, 501] {
        let r = call(&w.app, &w.key, "list_requests", json!({"limit": bad})).await;
        assert_eq!(
            refusal(&r),
            Some(("invalid_argument".to_string(), "limit".to_string())),
            "{r}"
        );
    }
    let ok = call(&w.app, &w.key, "list_requests", json!({"limit": 500})).await;
    assert_eq!(refusal(&ok), None, "{ok}");

    let mut checked = 0;
    for t in tools(&w.app, &w.key).await {
        let name = t["name"].as_str().unwrap();
        let props = t["inputSchema"]["properties"].as_object().unwrap().clone();
        for (prop, spec) in &props {
            for (limit, bad) in violations(spec) {
                let r = call(&w.app, &w.key, name, json!({ prop.clone(): bad })).await;
                assert_eq!(
                    refusal(&r),
                    Some(("invalid_argument".to_string(), prop.clone())),
                    "{name}.{prop} breaks {limit}: {r}"
                );
                checked += 1;
            }
        }
    }
    // seed_plan.task, name lengths, budgets, limit, tiers, classes, the name pattern.
    assert!(checked >= 15, "only {checked} limits found");
}

async fn direct_answers_match_the_sdk(engine: Engine) {
    let w = world(engine).await;
    let cases = [
        (&w.key, "whoami", json!({})),
        (&w.pat, "whoami", json!({})),
        (&w.key, "seed_list", json!({})),
        (&w.key, "get_project", json!({})),
        (
            &w.key,
            "seed_plan",
            json!({"languages": ["rust"], "task": "x"}),
        ),
        (&w.key, "list_requests", json!({"limit": 0})),
        (&w.key, "whoami", json!({"sudo": true})),
        (&w.key, "drop_database", json!({})),
        (
            &w.key,
            "get_project",
            json!({"project_id": "proj-1999-0001"}),
        ),
    ];
    for (tok, tool, args) in cases {
        let params = json!({"name": tool, "arguments": args});
        // Twice each: the second `whoami` comes from the memo.
        for round in 0..2 {
            let direct = rpc_raw(&w.app, tok, &PLAIN, "tools/call", params.clone()).await;
            let sdk = rpc_raw(&w.app, tok, &VIA_SDK, "tools/call", params.clone()).await;
            assert_eq!(direct, sdk, "{tool} {args} (round {round})");
            assert_eq!(direct.0, 200);
        }
    }
    // String ids and absent `arguments` too.
    for headers in [PLAIN, VIA_SDK] {
        let body =
            br#"{"jsonrpc":"2.0","id":"abc","method":"tools/call","params":{"name":"whoami"}}"#;
        let r = w
            .app
            .send(
                Method::POST,
                "/mcp",
                Some(&w.key),
                &headers,
                Some(body.to_vec()),
            )
            .await;
        let v: Value = serde_json::from_str(&r.text).unwrap();
        assert_eq!(v["id"], "abc");
        assert_eq!(v["result"]["structuredContent"]["kind"], "project_key");
    }
}

async fn whoami_follows_the_credential(engine: Engine) {
    let w = world(engine).await;
    let app = &w.app;
    let who = |tok: String| async move { call(app, &tok, "whoami", json!({})).await };

    // A key: warm, then revoked → 401 on the next call.
    let key = app.mint_key(&w.admin, &w.pid, "memo").await;
    let key_tok = key["key"].as_str().unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(
            who(key_tok.clone()).await["structuredContent"]["project_id"],
            w.pid
        );
    }
    let path = format!(
        "/api/projects/{}/keys/{}",
        w.pid,
        key["key_id"].as_str().unwrap()
    );
    app.delete(&path, Some(&w.admin)).await.expect(204);
    let (status, _) = rpc_raw(
        app,
        &key_tok,
        &PLAIN,
        "tools/call",
        json!({"name": "whoami", "arguments": {}}),
    )
    .await;
    assert_eq!(status, 401);

    // A member's PAT: warm, role changed → the new role at once; revoked → 401.
    let uid = app
        .create_user(
            &w.admin,
            "memo",
            "memo@corp.example",
            "memo-password-123",
            "member",
        )
        .await;
    let session = app.login("memo", "memo-password-123").await;
    let pat = app.mint_pat(&session, "memo").await;
    let pat_tok = pat["token"].as_str().unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(
            who(pat_tok.clone()).await["structuredContent"]["role"],
            "member"
        );
    }
    app.patch(
        &format!("/api/users/{uid}"),
        Some(&w.admin),
        json!({"role": "auditor"}),
    )
    .await
    .expect(200);
    assert_eq!(
        who(pat_tok.clone()).await["structuredContent"]["role"],
        "auditor"
    );
    app.delete(
        &format!("/api/auth/tokens/{}", pat["id"].as_str().unwrap()),
        Some(&session),
    )
    .await
    .expect(204);
    let (status, _) = rpc_raw(
        app,
        &pat_tok,
        &PLAIN,
        "tools/call",
        json!({"name": "whoami", "arguments": {}}),
    )
    .await;
    assert_eq!(status, 401);
}

crate::both_engines!(
    listed_tools_dispatch => every_listed_tool_dispatches,
    advertised_limits => advertised_limits_are_enforced,
    direct_matches_sdk => direct_answers_match_the_sdk,
    whoami_memo => whoami_follows_the_credential,
);
