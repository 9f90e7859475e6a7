//! A NUL character anywhere in the input (bad input is a 4xx,
//! never a 500). Postgres refuses NUL in text, so before this check a `%00`
//! in a filter reached the database as a 500 (found by the schemathesis
//! fuzzer, tests/fuzz/rest.sh). Every route, URL and body, and an MCP tool
//! argument: a 400/422 naming the problem, and nothing written.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Engine, Fails, Opts, TestApp, db};

async fn nul(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let tok = app.admin_token().await;
    let pid = app.register_named(&tok, "Nul checks").await;
    let key = app.mint_key(&tok, &pid, "agent").await["key"]
        .as_str()
        .unwrap()
        .to_string();
    // 401 still comes before anything else on /api.
    app.get("/api/projects?q=%00", None)
        .await
        .expect_error(401, "authentication_required");
    app.get("/healthz?x=%00", None)
        .await
        .expect_error(400, "invalid_request");
    let before = db::snapshot(&app.sandbox).await;
    let mut f = Fails::default();
    for (m, t) in asgard::http::route_table() {
        if t == "/api/auth/logout" || t == "/api/auth/password" {
            continue; // would end the test's own session
        }
        let method: Method = m.parse().unwrap();
        // In a path parameter, or else in the path itself.
        let in_path = if t.contains('{') {
            t.replacen("{id}", &format!("{pid}%00"), 1)
                .replace(['{', '}'], "")
        } else {
            format!("{t}%00")
        };
        let r = app
            .send(method.clone(), &in_path, Some(&tok), &[], None)
            .await;
        f.check(r.check_error(400, "invalid_request").map(|_| ()));
        // In the query.
        let r = app
            .send(
                method.clone(),
                &format!("{t}?q=a%00b&project=%00"),
                Some(&tok),
                &[],
                None,
            )
            .await;
        f.check(r.check_error(400, "invalid_request").map(|_| ()));
        // In a JSON body.
        if m == "POST" || m == "PATCH" {
            let path = t.replace("{id}", &pid).replace(['{', '}'], "");
            let r = app
                .req(
                    method,
                    &path,
                    Some(&tok),
                    Some(json!({"name": "a\u{0}b", "reason": "x\u{0}"})),
                )
                .await;
            if r.status >= 500 || !(400..500).contains(&r.status) {
                f.push(format!(
                    "{m} {path} with a NUL in the body: {} {}",
                    r.status, r.text
                ));
            }
        }
    }
    // The register body, where every field would otherwise be stored.
    let r = app
        .post(
            "/api/projects",
            Some(&tok),
            json!({"name": "Nul project", "owner_email": "owner@corp.example",
                   "manager_email": "mgr@corp.example", "group": "platform",
                   "evidence": {"runbook_url": "https://x.example/\u{0}"}}),
        )
        .await;
    f.check(r.check_invalid("evidence.runbook_url"));

    // An MCP tool argument.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "get_project", "arguments": {"project_id": format!("{pid}\u{0}")}}});
    let r = app
        .send(
            Method::POST,
            "/mcp",
            Some(&key),
            &[
                ("accept", "application/json, text/event-stream"),
                ("content-type", "application/json"),
                ("mcp-protocol-version", "2025-11-25"),
            ],
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await;
    let v: Value = r
        .text
        .lines()
        .find_map(|l| serde_json::from_str(l.trim_start_matches("data:").trim()).ok())
        .unwrap_or(Value::Null);
    if !(r.status == 200
        && v["result"]["isError"] == true
        && v["result"]["structuredContent"]["code"] == "invalid_argument")
    {
        f.push(format!(
            "MCP get_project with a NUL: {} {}",
            r.status, r.text
        ));
    }

    let after = db::snapshot(&app.sandbox).await;
    f.0.extend(db::changes(&before, &after));
    app.get("/readyz", None).await.expect(200);
    f.assert_none("NUL input");
}

crate::both_engines!(nul_characters_are_refused => nul);
