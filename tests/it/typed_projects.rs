//! One project body under two doors: the MCP `inputSchema` of
//! register_project/update_project and the OpenAPI bodies of
//! `POST`/`PATCH /api/projects` come from the same types, so they list the
//! same fields with the same limits; a patch field REST takes, MCP takes
//! too; the owner defaults to a PAT caller on either door and to nobody on
//! a session; and every project, group and promotion answer matches the
//! `outputSchema` its tool advertises.

use serde_json::{Value, json};

use crate::support::{Engine, Opts, TestApp};

async fn tools(app: &TestApp, tok: &str) -> Vec<Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let r = app
        .send(
            reqwest::Method::POST,
            "/mcp",
            Some(tok),
            &[
                ("accept", "application/json, text/event-stream"),
                ("mcp-protocol-version", "2025-11-25"),
            ],
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await;
    r.expect(200);
    r.json()["result"]["tools"].as_array().unwrap().clone()
}

fn tool<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed"))
}

/// The keywords that bound a value (what both doors enforce).
fn limits(spec: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in [
        "type",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "maxItems",
        "pattern",
    ] {
        if let Some(v) = spec.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    if let Some(Value::Array(e)) = spec.get("enum") {
        let e: Vec<&Value> = e.iter().filter(|v| !v.is_null()).collect();
        out.insert("enum".into(), json!(e));
    }
    Value::Object(out)
}

/// Every argument MCP advertises, REST documents with the same limits
/// (`group` gains this server's allowlist on REST, and REST also takes
/// each evidence field at the top level).
fn same_fields(mcp: &Value, rest: &Value, what: &str) {
    let m = mcp["properties"].as_object().unwrap();
    let r = rest["properties"].as_object().unwrap();
    for (k, spec) in m {
        if k == "project_id" {
            continue;
        }
        let other = r
            .get(k)
            .unwrap_or_else(|| panic!("{what}: {k} is an MCP argument but not in the REST body"));
        if k == "group" {
            assert_eq!(spec["type"], other["type"], "{what}: group");
            continue;
        }
        assert_eq!(limits(spec), limits(other), "{what}: {k}");
    }
    for k in r.keys() {
        let top_evidence = m["evidence"]["properties"].get(k).is_some();
        assert!(
            m.contains_key(k) || top_evidence,
            "{what}: {k} is in the REST body but not an MCP argument"
        );
    }
}

async fn one_body_two_doors(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    let pat = app.mint_pat(&admin, "typed").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = app.get("/api/openapi.json", Some(&admin)).await.json();
    let body = |m: &str, p: &str| {
        doc["paths"][p][m]["requestBody"]["content"]["application/json"]["schema"].clone()
    };
    let all = tools(&app, &pat).await;
    same_fields(
        &tool(&all, "register_project")["inputSchema"],
        &body("post", "/api/projects"),
        "register",
    );
    same_fields(
        &tool(&all, "update_project")["inputSchema"],
        &body("patch", "/api/projects/{id}"),
        "update",
    );
    // The REST answers are documented with the tools' output schema.
    let answer = &doc["paths"]["/api/projects/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(answer, &tool(&all, "get_project")["outputSchema"]);

    // A field PATCH takes, update_project takes too (data_class was refused
    // over MCP as an unknown argument).
    let pid = app.register_named(&admin, "Typed").await;
    let r = app
        .tool_call(
            &pat,
            "update_project",
            json!({"project_id": pid, "data_class": "confidential", "budget_usd": 12.5}),
        )
        .await;
    assert_ne!(r["isError"], true, "{r}");
    assert_eq!(r["structuredContent"]["data_class"], "confidential", "{r}");
    let got = app.get(&format!("/api/projects/{pid}"), Some(&admin)).await;
    assert_eq!(got.json()["data_class"], "confidential");
    assert_eq!(got.json()["budget_usd"], 12.5);
    // The same refusal, field for field, on both doors.
    for (args, field) in [
        (json!({"data_class": "secret"}), "data_class"),
        (json!({"budget_usd": 2e9}), "budget_usd"),
        (json!({"manager_email": "nope"}), "manager_email"),
        (
            json!({"evidence": {"runbook_url": "ftp://x"}}),
            "evidence.runbook_url",
        ),
        (
            json!({"evidence": {"shoe_size": "42"}}),
            "evidence.shoe_size",
        ),
    ] {
        app.patch(&format!("/api/projects/{pid}"), Some(&admin), args.clone())
            .await
            .expect_invalid(field);
        let mut a = args.clone();
        a["project_id"] = json!(pid);
        let r = app.tool_call(&pat, "update_project", a).await;
        assert_eq!(r["isError"], true, "{args}: {r}");
        assert_eq!(
            r["structuredContent"]["code"], "invalid_argument",
            "{args}: {r}"
        );
        assert_eq!(r["structuredContent"]["field"], field, "{args}: {r}");
    }
}

async fn default_owner(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    app.create_user(&admin, "mo", "mo@corp.example", "mo-password-123", "member")
        .await;
    let session = app.login("mo", "mo-password-123").await;
    let pat = app.mint_pat(&session, "mo").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"name": "Owned", "manager_email": "boss@corp.example", "group": "platform"});
    // A session names the owner.
    app.post("/api/projects", Some(&session), body.clone())
        .await
        .expect_invalid("owner_email");
    // A PAT defaults it to its user, over REST as over MCP: one rule.
    let r = app.post("/api/projects", Some(&pat), body.clone()).await;
    r.expect(201);
    assert_eq!(r.json()["owner_email"], "mo@corp.example");
    let mut b = body.clone();
    b["name"] = json!("Owned too");
    let r = app.tool_call(&pat, "register_project", b).await;
    assert_ne!(r["isError"], true, "{r}");
    assert_eq!(r["structuredContent"]["owner_email"], "mo@corp.example");
}

/// Each answer satisfies the schema its tool advertises (checked with the
/// server's own validator: types, required fields, nested objects).
async fn answers_match_their_schema(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    let pat = app.mint_pat(&admin, "typed").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let pid = app.register_named(&admin, "Answers").await;
    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&admin),
        json!({"description": "d", "runbook_url": "https://r.example"}),
    )
    .await
    .expect(200);
    let all = tools(&app, &pat).await;
    let mut checked = 0;
    for (name, args) in [
        ("get_project", json!({"project_id": pid})),
        (
            "update_project",
            json!({"project_id": pid, "name": "Answers two"}),
        ),
        ("promotion_status", json!({"project_id": pid})),
        ("list_groups", json!({})),
    ] {
        let r = app.tool_call(&pat, name, args).await;
        assert_ne!(r["isError"], true, "{name}: {r}");
        let mut sc = r["structuredContent"].clone();
        let schema = tool(&all, name)["outputSchema"].clone();
        assert!(
            schema["required"].as_array().is_some_and(|r| !r.is_empty()),
            "{name}: {schema}"
        );
        asgard::catalog::schema::validate("", &schema, &mut sc)
            .unwrap_or_else(|e| panic!("{name}: {e:?}: {sc}"));
        checked += 1;
    }
    assert_eq!(checked, 4);
}

crate::both_engines!(one_body_two_doors_agree => one_body_two_doors);
crate::both_engines!(owner_defaults_to_a_pat_caller => default_owner);
crate::both_engines!(answers_match_their_schemas => answers_match_their_schema);
crate::both_engines!(who_may_register_is_checked_before_the_body => may_register_first);

/// A caller who may not register learns that (403), whatever the body: the
/// body's schema is not a probe for those who cannot use it.
async fn may_register_first(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        "audrey",
        "audrey@corp.example",
        "audrey-password-1",
        "auditor",
    )
    .await;
    let auditor = app.login("audrey", "audrey-password-1").await;
    for body in [json!({}), json!({"colour": 1}), json!({"name": "P"})] {
        app.post("/api/projects", Some(&auditor), body.clone())
            .await
            .expect_error(403, "forbidden");
    }
}
