//! `GET /api/openapi.json`: OpenAPI 3.1 generated from the route
//! table, accepted by `openapi-spec-validator`. Every route the router serves is described, with its path
//! parameters and a summary; every `$ref` resolves; and the register body's
//! schema agrees with what the server enforces (each required field, when
//! left out, is the field a 422 names; a field outside the schema is 422).

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{Engine, Opts, TestApp};

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "$ref" {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

async fn openapi(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().process()).await;
    app.get("/api/openapi.json", None)
        .await
        .expect_error(401, "authentication_required");
    let admin = app.admin_token().await;
    let r = app.get("/api/openapi.json", Some(&admin)).await;
    r.expect(200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["version"].is_string());

    let mut op_ids = HashSet::new();
    for (method, path) in asgard::http::route_table() {
        let op = &doc["paths"][&path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not described");
        let summary = op["summary"].as_str().unwrap_or("");
        assert!(!summary.is_empty(), "{method} {path} has no summary");
        assert!(
            op_ids.insert(op["operationId"].as_str().unwrap().to_string()),
            "duplicate operationId at {method} {path}"
        );
        let declared: HashSet<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for seg in path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                assert!(
                    declared.contains(name),
                    "{method} {path}: path parameter {name} not declared"
                );
            }
        }
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|k| k.starts_with('2') || k == "302"),
            "{method} {path}: no success response"
        );
    }
    // Nothing described that the router does not serve (besides /mcp).
    let served: HashSet<String> = asgard::http::route_table()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    for p in doc["paths"].as_object().unwrap().keys() {
        assert!(
            served.contains(p) || p == "/mcp",
            "{p} is described but not served"
        );
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let ptr = r.strip_prefix('#').expect("local ref");
        assert!(doc.pointer(ptr).is_some(), "unresolved $ref {r}");
    }
    // Valid OpenAPI 3.1, by the validator moto itself depends on (installed
    // with moto_server, which the provisioning suite needs anyway).
    let mut child = std::process::Command::new("python3")
        .args(["-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(r.text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator refused the document:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Public routes say so.
    assert_eq!(
        doc["paths"]["/api/auth/login"]["post"]["security"],
        json!([])
    );
    // A typed body: the schema comes from the type.
    let pat = &doc["paths"]["/api/auth/tokens"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(pat["required"], json!(["name"]), "{pat}");
    assert!(pat["properties"]["expires_in_days"].is_object(), "{pat}");
    assert_eq!(pat["additionalProperties"], false, "{pat}");

    // The register schema against the server.
    let reg = doc["paths"]["/api/projects"]["post"]["requestBody"]["content"]["application/json"]["schema"].clone();
    let required: Vec<String> = reg["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(required, ["name", "owner_email", "manager_email", "group"]);
    let full = json!({"name": "Described", "owner_email": "owner@corp.example",
                      "manager_email": "mgr@corp.example", "group": "platform",
                      "budget_usd": 10, "data_class": "internal", "classification": "poc"});
    for k in full.as_object().unwrap().keys() {
        assert!(
            reg["properties"][k].is_object(),
            "{k} missing from the register schema"
        );
    }
    for field in &required {
        let mut body = full.clone();
        body.as_object_mut().unwrap().remove(field);
        app.post("/api/projects", Some(&admin), body)
            .await
            .expect_invalid(field);
    }
    let mut extra = full.clone();
    extra["colour"] = json!("blue");
    assert!(reg["properties"]["colour"].is_null());
    app.post("/api/projects", Some(&admin), extra)
        .await
        .expect(422);
    app.post("/api/projects", Some(&admin), full)
        .await
        .expect(201);

    // The description follows this server's registration settings.
    let relaxed = TestApp::spawn(
        engine,
        Opts::new()
            .process()
            .yaml("registration:\n  require_manager: false\n  require_group: false\n"),
    )
    .await;
    let tok = relaxed.admin_token().await;
    let d = relaxed.get("/api/openapi.json", Some(&tok)).await.json();
    assert_eq!(
        d["paths"]["/api/projects"]["post"]["requestBody"]["content"]["application/json"]["schema"]
            ["required"],
        json!(["name", "owner_email"])
    );
}

crate::both_engines!(openapi_describes_every_route => openapi);
