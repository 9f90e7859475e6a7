//! Provisioning answers are typed, and each MCP tool's `outputSchema` is the
//! schema of its answer type: every real answer fits it (types, states,
//! required keys) and names no key the schema leaves out. The REST door
//! serializes the same types, so its bodies equal the tools' answers.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Engine, Opts, TestApp};

async fn output_schemas(app: &TestApp, cred: &str) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}});
    let r = app
        .send(
            Method::POST,
            "/mcp",
            Some(cred),
            &[
                ("accept", "application/json, text/event-stream"),
                ("mcp-protocol-version", "2025-11-25"),
            ],
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await;
    r.expect(200);
    let v: Value = serde_json::from_str(&r.text).unwrap();
    let mut out = serde_json::Map::new();
    for t in v["result"]["tools"].as_array().unwrap() {
        out.insert(
            t["name"].as_str().unwrap().to_string(),
            t["outputSchema"].clone(),
        );
    }
    Value::Object(out)
}

/// Every key of `v` is one `schema` names (free-form values excepted:
/// a schema without `properties`).
fn names_every_key(path: &str, schema: &Value, v: &Value) {
    match v {
        Value::Object(map) => {
            let Some(props) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            for (k, sub) in map {
                let s = props
                    .get(k)
                    .unwrap_or_else(|| panic!("{path}.{k} is not in the outputSchema: {schema}"));
                names_every_key(&format!("{path}.{k}"), s, sub);
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    names_every_key(&format!("{path}[{i}]"), s, item);
                }
            }
        }
        _ => {}
    }
}

/// Call `tool`, require success, check the answer against its
/// `outputSchema`; returns the answer.
async fn answer(app: &TestApp, schemas: &Value, key: &str, tool: &str, args: Value) -> Value {
    let r = app.tool_call(key, tool, args).await;
    assert_ne!(r["isError"], true, "{tool}: {r}");
    let sc = r["structuredContent"].clone();
    assert!(sc.is_object(), "{tool}: {r}");
    let schema = &schemas[tool];
    let mut checked = sc.clone();
    asgard::catalog::schema::validate(tool, schema, &mut checked)
        .unwrap_or_else(|e| panic!("{tool}: {e:?}: {sc}"));
    names_every_key(tool, schema, &sc);
    every_subschema_is_an_object(tool, schema);
    sc
}

/// The MCP SDK refuses a tools list whose `outputSchema` has a boolean
/// (`true`) as a property's schema; each must be an object.
fn every_subschema_is_an_object(path: &str, schema: &Value) {
    assert!(schema.is_object(), "{path}: {schema}");
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, sub) in props {
            every_subschema_is_an_object(&format!("{path}.{k}"), sub);
        }
    }
    if let Some(items) = schema.get("items") {
        every_subschema_is_an_object(&format!("{path}[]"), items);
    }
}

async fn answers_fit(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    let pid = app.register_named(&admin, "Typed answers").await;
    let key = app.mint_key(&admin, &pid, "agent").await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let s = output_schemas(&app, &key).await;

    // Unarmed: the ask is recorded as `planned`, with its plan.
    let ask = json!({"service": "demo-token", "name": "tok-a", "spec": {}});
    let created = answer(&app, &s, &key, "request_resource", ask.clone()).await;
    assert_eq!(created["state"], "planned", "{created}");
    assert!(created["plan"].is_object(), "{created}");
    assert!(created.get("idempotent").is_none(), "{created}");
    let again = answer(&app, &s, &key, "request_resource", ask).await;
    assert_eq!(again["idempotent"], true, "{again}");
    assert_eq!(again["request_id"], created["request_id"]);
    let rid = created["request_id"].as_str().unwrap();
    let res = created["resource_id"].as_str().unwrap();

    let req = answer(&app, &s, &key, "get_request", json!({"request_id": rid})).await;
    assert_eq!(req["resource_state"], "planned", "{req}");
    let page = answer(&app, &s, &key, "list_requests", json!({})).await;
    assert_eq!(page["requests"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["next_cursor"], Value::Null);
    let list = answer(&app, &s, &key, "list_resources", json!({})).await;
    let one = answer(&app, &s, &key, "get_resource", json!({"resource": "tok-a"})).await;
    assert_eq!(list["resources"][0], one);
    let cost = answer(&app, &s, &key, "project_cost", json!({})).await;
    assert!(cost.get("remaining_monthly_usd").is_some(), "{cost}");
    let secrets = answer(&app, &s, &key, "list_secrets", json!({})).await;

    // The REST door (a person's door: the admin) answers the same types.
    let rest = |path: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app.get(&path, Some(&admin)).await;
            r.expect(200);
            r.json()
        }
    };
    assert_eq!(rest(format!("/api/requests/{rid}")).await, req);
    assert_eq!(rest(format!("/api/projects/{pid}/resources")).await, list);
    assert_eq!(
        rest(format!("/api/projects/{pid}/resources/{res}")).await,
        one
    );
    assert_eq!(rest(format!("/api/projects/{pid}/cost")).await, cost);
    assert_eq!(rest(format!("/api/projects/{pid}/secrets")).await, secrets);
    assert_eq!(rest(format!("/api/requests?project={pid}")).await, page);
    assert_eq!(
        rest(format!("/api/requests/{rid}/log")).await,
        json!({"request_id": rid, "log": null})
    );

    // Nothing ever ran: the destroy is fulfilled at once.
    let gone = answer(
        &app,
        &s,
        &key,
        "deprovision_resource",
        json!({"resource": "tok-a"}),
    )
    .await;
    assert_eq!(gone["kind"], "destroy", "{gone}");
    assert_eq!(gone["resource_state"], "destroyed", "{gone}");
}

crate::both_engines!(
    mcp_answers_fit_their_output_schemas => answers_fit,
);
