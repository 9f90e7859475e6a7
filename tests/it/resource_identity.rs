//! A resource is named by its id, or by `(service, name)`: a bare name that
//! two services share is refused with the candidates on REST and MCP, never
//! resolved to one of them. Reproduces the runbook's self-deploy appendix,
//! where the ECR repository and the ECS service are both called `asgard`
//! (issue 8, finding 11). Unarmed, so both requests are plan-only records.
//! REST as the admin, MCP with a project key (keys are for MCP only).

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Engine, Opts, TestApp};

fn ecs_spec() -> Value {
    json!({"image": "nginx:1.27", "vpc_id": "vpc-0abc", "subnet_ids": ["subnet-0a", "subnet-0b"]})
}

/// One MCP `tools/call`: (`isError`, `structuredContent`).
async fn tool(app: &TestApp, cred: &str, name: &str, args: Value) -> (bool, Value) {
    let res = app.tool_call(cred, name, args).await;
    (
        res["isError"].as_bool().unwrap_or(false),
        res["structuredContent"].clone(),
    )
}

fn services_of(candidates: &Value) -> Vec<String> {
    let mut s: Vec<String> = candidates
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|c| c["service"].as_str().unwrap_or("").to_string())
        .collect();
    s.sort();
    s
}

async fn shared_name(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let tok = app.admin_token().await;
    let pid = app
        .register_project(
            &tok,
            json!({"name": "Self deploy", "owner_email": "owner@corp.example",
                   "manager_email": "mgr@corp.example", "group": "platform", "budget_usd": 1000}),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = app.mint_key(&tok, &pid, "agent").await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/api/projects/{pid}/resources");
    let ecr = app
        .post(
            &base,
            Some(&tok),
            json!({"service": "ecr-repository", "name": "asgard"}),
        )
        .await;
    ecr.expect(202);
    let ecs = app
        .post(
            &base,
            Some(&tok),
            json!({"service": "ecs-service", "name": "asgard", "spec": ecs_spec()}),
        )
        .await;
    ecs.expect(202);
    let (ecr_id, ecs_id) = (
        ecr.json()["resource_id"].as_str().unwrap().to_string(),
        ecs.json()["resource_id"].as_str().unwrap().to_string(),
    );

    // A bare name is refused on both REST routes, with both candidates.
    let r = app.get(&format!("{base}/asgard"), Some(&tok)).await;
    let e = r.expect_error(422, "invalid_request");
    assert_eq!(e["field"], "resource");
    assert_eq!(
        services_of(&e["candidates"]),
        ["ecr-repository", "ecs-service"]
    );
    let r = app
        .send(
            Method::DELETE,
            &format!("{base}/asgard"),
            Some(&tok),
            &[],
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(r.expect_error(422, "invalid_request")["field"], "resource");
    // Nothing was destroyed by the refused call.
    let list = app.get(&base, Some(&tok)).await;
    list.expect(200);
    assert_eq!(list.json()["resources"].as_array().unwrap().len(), 2);

    // `service` picks one; the id always works.
    let r = app
        .get(&format!("{base}/asgard?service=ecs-service"), Some(&tok))
        .await;
    r.expect(200);
    assert_eq!(r.json()["resource_id"], ecs_id.as_str());
    let r = app.get(&format!("{base}/{ecr_id}"), Some(&tok)).await;
    r.expect(200);
    assert_eq!(r.json()["service"], "ecr-repository");

    // MCP: the same rule on get_resource and deprovision_resource.
    for t in ["get_resource", "deprovision_resource"] {
        let (err, body) = tool(&app, &key, t, json!({"resource": "asgard"})).await;
        assert!(err, "{t}: {body}");
        assert_eq!(body["code"], "invalid_argument", "{t}: {body}");
        assert_eq!(body["field"], "resource", "{t}: {body}");
        assert_eq!(
            services_of(&body["candidates"]),
            ["ecr-repository", "ecs-service"],
            "{t}"
        );
    }
    let (err, body) = tool(
        &app,
        &key,
        "deprovision_resource",
        json!({"resource": "asgard", "service": "ecs-service"}),
    )
    .await;
    assert!(!err, "{body}");
    assert_eq!(body["resource_id"], ecs_id.as_str());
    assert_eq!(body["resource_state"], "destroyed");
    let ecs_destroy = body["request_id"].as_str().unwrap().to_string();

    // The repository is untouched; destroying it answers with its own request.
    let (err, body) = tool(
        &app,
        &key,
        "get_resource",
        json!({"resource": "asgard", "service": "ecr-repository"}),
    )
    .await;
    assert!(!err, "{body}");
    assert_eq!(body["state"], "planned");
    let r = app
        .send(
            Method::DELETE,
            &format!("{base}/asgard?service=ecr-repository"),
            Some(&tok),
            &[],
            Some(b"{}".to_vec()),
        )
        .await;
    r.expect(202);
    assert_eq!(r.json()["resource_id"], ecr_id.as_str());
    assert_ne!(r.json()["request_id"], ecs_destroy.as_str());
    // A repeated destroy of the service answers with the service's destroy.
    let (err, body) = tool(
        &app,
        &key,
        "deprovision_resource",
        json!({"resource": ecs_id, "service": "ecs-service"}),
    )
    .await;
    assert!(!err, "{body}");
    assert_eq!(body["request_id"], ecs_destroy.as_str());
    assert_eq!(body["resource_id"], ecs_id.as_str());
}

crate::both_engines!(a_shared_name_is_never_guessed => shared_name);
