//! The tier-aware approval policy: the catalog says per project whether a
//! request would run with no person (and why not), the runbook appendix's
//! ECR repository and secret on a `light-operational` project need no one
//! while RDS and ECS do, an overdue review loses auto-approval, a waiting
//! request says who may approve it, why and where, and a destroy (or a
//! change) of a resource whose creation needed a person waits for one, on
//! an armed replica and an unarmed one alike. A typo in the policy refuses
//! the boot, naming its path.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Engine, Opts, RUNBOOK_YAML, Sandbox, TestApp};

const ADMIN_PW: &str = "the-admin-password-1";
const PUBLIC: &str = "https://asgard.example.com";

/// The codes of a list of approval reasons.
fn codes(reasons: &Value) -> Vec<String> {
    reasons
        .as_array()
        .unwrap_or_else(|| panic!("no reasons: {reasons}"))
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

/// A service's `approval` in a catalog listing.
fn approval_of(list: &Value, service: &str) -> Value {
    list["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == service)
        .unwrap_or_else(|| panic!("{service} not listed: {list}"))["approval"]
        .clone()
}

async fn register(app: &TestApp, tok: &str, name: &str, tier: &str) -> String {
    let p = app
        .register_project(
            tok,
            json!({"name": name, "owner_email": "owner@corp.example", "manager_email": "mgr@corp.example",
                   "group": "platform", "budget_usd": 100, "classification": tier}),
        )
        .await;
    p["project_id"].as_str().unwrap().to_string()
}

/// Unarmed (requests are recorded as `planned`, saying whether they would
/// need approval), default policy.
async fn catalog_and_the_appendix(engine: Engine) {
    let sb = Sandbox::new(engine).await;
    let app = TestApp::spawn_in(&sb, Opts::new().admin_password(ADMIN_PW)).await;
    let admin = app.admin_token().await;
    let pid = register(&app, &admin, "Asgard", "light-operational").await;
    let other = register(&app, &admin, "Other", "poc").await;
    let key = app.mint_key(&admin, &pid, "agent").await["key"]
        .as_str()
        .unwrap()
        .to_string();

    // With a project key the project is implied.
    let res = app.tool_call(&key, "list_services", json!({})).await;
    let list = res["structuredContent"].clone();
    assert_eq!(list["project_id"], pid.as_str(), "{res}");
    for auto in ["ecr-repository", "secretsmanager-secret"] {
        let a = approval_of(&list, auto);
        assert_eq!(a["auto"], true, "{auto}: {a}");
        assert_eq!(codes(&a["reasons"]), Vec::<String>::new(), "{auto}");
        assert_eq!(a["classification"], "light-operational");
    }
    for person in ["rds-postgres", "ecs-service"] {
        let a = approval_of(&list, person);
        assert_eq!(a["auto"], false, "{person}: {a}");
        assert_eq!(codes(&a["reasons"]), ["service_needs_approval"], "{person}");
    }
    let one = app
        .tool_call(&key, "get_service", json!({"service": "rds-postgres"}))
        .await;
    assert_eq!(one["structuredContent"]["approval"]["auto"], false, "{one}");
    // A key cannot ask about another project.
    let res = app
        .tool_call(&key, "list_services", json!({"project_id": other}))
        .await;
    assert_eq!(res["isError"], true, "{res}");
    let err: Value = serde_json::from_str(res["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(err["code"], "forbidden", "{res}");

    // REST: no project, no approval; ?project= adds it.
    let bare = app.get("/api/services", Some(&admin)).await;
    bare.expect(200);
    assert!(approval_of(&bare.json(), "ecr-repository").is_null());
    assert_eq!(bare.json()["project_id"], Value::Null);
    let scoped = app
        .get(&format!("/api/services?project={pid}"), Some(&admin))
        .await;
    scoped.expect(200);
    assert_eq!(approval_of(&scoped.json(), "ecr-repository")["auto"], true);
    let one = app
        .get(
            &format!("/api/services/ecs-service?project={pid}"),
            Some(&admin),
        )
        .await;
    one.expect(200);
    assert_eq!(
        codes(&one.json()["approval"]["reasons"]),
        ["service_needs_approval"]
    );
    app.get("/api/services?project=proj-2026-9999", Some(&admin))
        .await
        .expect_error(404, "not_found");

    // The appendix's asks: ECR and the 32-byte secret need no person, RDS
    // and ECS do.
    let ecs = json!({"image": "registry.example/asgard:sha-1", "vpc_id": "vpc-0a1b", "subnet_ids": ["subnet-0a", "subnet-0b"],
                     "cpu": "512", "memory": "1024", "container_port": 8080, "health_path": "/readyz", "desired_count": 1});
    for (svc, name, spec, needs) in [
        ("ecr-repository", "asgard", json!({"name": "asgard"}), false),
        (
            "rds-postgres",
            "asgard-db",
            json!({"name": "asgard-db", "engine_version": "16"}),
            true,
        ),
        (
            "secretsmanager-secret",
            "asgard-key",
            json!({"name": "asgard-key", "byte_length": 32}),
            false,
        ),
        ("ecs-service", "asgard", ecs, true),
    ] {
        let res = app
            .tool_call(
                &key,
                "request_resource",
                json!({"service": svc, "name": name, "spec": spec}),
            )
            .await;
        let sc = &res["structuredContent"];
        assert_eq!(sc["state"], "planned", "{svc}: {res}");
        assert_eq!(sc["needs_approval"], needs, "{svc}: {res}");
        assert_eq!(
            sc["plan"]["would_need_approval"].is_string(),
            needs,
            "{svc}: {res}"
        );
    }

    // An overdue review loses auto-approval, in the catalog and the ask.
    crate::support::db::exec(
        &sb,
        &format!("UPDATE projects SET review_state = 'overdue' WHERE id = '{pid}'"),
    )
    .await;
    let list = app.tool_call(&key, "list_services", json!({})).await["structuredContent"].clone();
    let a = approval_of(&list, "ecr-repository");
    assert_eq!(a["auto"], false, "{a}");
    assert_eq!(codes(&a["reasons"]), ["review_overdue"]);
    let res = app
        .tool_call(
            &key,
            "request_resource",
            json!({"service": "secretsmanager-secret", "name": "another", "spec": {"byte_length": 32}}),
        )
        .await;
    assert_eq!(res["structuredContent"]["needs_approval"], true, "{res}");
}

/// Armed with the provider-free `demo-token` module; `poc` asks a person
/// for everything (a ceiling of 0).
fn armed(sb: &Sandbox) -> Opts {
    let modules = concat!(env!("CARGO_MANIFEST_DIR"), "/modules");
    unarmed().env("ASGARD_TF_MODULES_DIR", modules).env(
        "ASGARD_TF_WORK_DIR",
        &sb.dir.join("tf-work").display().to_string(),
    )
}

fn unarmed() -> Opts {
    let yaml = format!(
        "{RUNBOOK_YAML}provisioning:\n  auto_approve:\n    poc: {{ max_resource_monthly_usd: 0 }}\n"
    );
    Opts::new()
        .yaml(&yaml)
        .admin_password(ADMIN_PW)
        .env("ASGARD_PUBLIC_URL", PUBLIC)
}

async fn request(app: &TestApp, tok: &str, rid: &str) -> Value {
    let r = app.get(&format!("/api/requests/{rid}"), Some(tok)).await;
    r.expect(200);
    r.json()
}

/// Poll a request until it leaves the states a run passes through.
async fn settled(app: &TestApp, tok: &str, rid: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = request(app, tok, rid).await;
        let done = !matches!(v["state"].as_str(), Some("queued" | "running"));
        if done || Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a waiting request says, checked on an answer: admin, not the
/// key's side, why (by code), where.
fn check_waiting(v: &Value, code: &str) {
    let rid = v["request_id"].as_str().unwrap();
    assert_eq!(v["state"], "pending_approval", "{v}");
    let a = &v["approval"];
    assert_eq!(a["approver_role"], "admin", "{v}");
    let not = a["not"].as_array().unwrap();
    assert_eq!(not.len(), 3, "the key, its minter, the owner: {v}");
    assert!(not[0].as_str().unwrap().starts_with("key:"), "{v}");
    assert!(
        codes(&a["reasons"]).iter().any(|c| c == code),
        "{code}: {v}"
    );
    assert_eq!(a["url"], format!("{PUBLIC}/requests/{rid}"));
    assert_eq!(a["route"], format!("/api/requests/{rid}/approve"));
    let next = v["next"].as_str().unwrap();
    assert!(
        next.contains(&format!("/api/requests/{rid}/approve")),
        "{next}"
    );
    assert!(next.contains(&format!("{PUBLIC}/requests/{rid}")), "{next}");
}

async fn gated_changes_and_destroys_wait(engine: Engine) {
    let sb = Sandbox::new(engine).await;
    // On the binary: the test restarts it on the same database, and a
    // SQLite file takes one process at a time.
    let mut app = TestApp::spawn_in(&sb, armed(&sb).process()).await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        "bea",
        "bea@corp.example",
        "bea-password-123",
        "admin",
    )
    .await;
    let bea = app.login("bea", "bea-password-123").await;
    let pid = app.register_named(&admin, "Gated").await;
    let key = app.mint_key(&admin, &pid, "agent").await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let ask =
        |label: &str| json!({"service": "demo-token", "name": "tok", "spec": {"label": label}});

    // The create waits, and says who, why and where on every read.
    let res = app.tool_call(&key, "request_resource", ask("one")).await;
    let created = res["structuredContent"].clone();
    check_waiting(&created, "tier_needs_approval");
    let rid = created["request_id"].as_str().unwrap().to_string();
    check_waiting(&request(&app, &admin, &rid).await, "tier_needs_approval");
    let inbox = app
        .get("/api/requests?state=pending_approval", Some(&bea))
        .await
        .json();
    check_waiting(&inbox["requests"][0], "tier_needs_approval");
    app.post(
        &format!("/api/requests/{rid}/approve"),
        Some(&bea),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(settled(&app, &admin, &rid).await["state"], "fulfilled");

    // A change of it waits too, for that reason among others.
    let res = app.tool_call(&key, "request_resource", ask("two")).await;
    check_waiting(&res["structuredContent"], "approval_gated");
    let change = res["structuredContent"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Its destroy waits, the resource and what waits for it as they were:
    // nothing is cancelled until the destroy is approved.
    let res = app
        .tool_call(&key, "deprovision_resource", json!({"resource": "tok"}))
        .await;
    let d = res["structuredContent"].clone();
    assert_eq!(d["kind"], "destroy", "{res}");
    check_waiting(&d, "approval_gated");
    assert_eq!(d["resource_state"], "fulfilled", "{d}");
    let did = d["request_id"].as_str().unwrap().to_string();
    assert_eq!(
        request(&app, &admin, &change).await["state"],
        "pending_approval"
    );
    let again = app
        .tool_call(&key, "deprovision_resource", json!({"resource": "tok"}))
        .await;
    assert_eq!(
        again["structuredContent"]["request_id"],
        did.as_str(),
        "{again}"
    );
    // A new ask neither closes the waiting destroy nor slips past it.
    let res = app.tool_call(&key, "request_resource", ask("three")).await;
    assert_eq!(res["isError"], true, "{res}");
    assert_eq!(res["structuredContent"]["code"], "conflict", "{res}");
    assert_eq!(
        request(&app, &admin, &did).await["state"],
        "pending_approval"
    );
    // The key's minter may not approve it; another admin rejects it.
    app.post(
        &format!("/api/requests/{did}/approve"),
        Some(&admin),
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        &format!("/api/requests/{did}/reject"),
        Some(&bea),
        json!({"reason": "still needed"}),
    )
    .await
    .expect(200);
    let r = request(&app, &admin, &did).await;
    assert_eq!(
        (r["state"].as_str(), r["resource_state"].as_str()),
        (Some("rejected"), Some("fulfilled")),
        "{r}"
    );
    assert_eq!(
        request(&app, &admin, &change).await["state"],
        "pending_approval",
        "a rejected destroy leaves the waiting change as it was"
    );

    // An unarmed replica gates the destroy the same way.
    app.stop().await;
    drop(app);
    let mut plain = TestApp::spawn_in(&sb, unarmed().process()).await;
    let res = plain
        .tool_call(&key, "deprovision_resource", json!({"resource": "tok"}))
        .await;
    let d = res["structuredContent"].clone();
    check_waiting(&d, "approval_gated");
    assert_eq!(d["resource_state"], "fulfilled", "{d}");
    let did = d["request_id"].as_str().unwrap().to_string();
    plain.stop().await;
    drop(plain);

    // Approved, it runs: the token is destroyed.
    let mut app = TestApp::spawn_in(&sb, armed(&sb).process()).await;
    let bea = app.login("bea", "bea-password-123").await;
    let r = app
        .post(
            &format!("/api/requests/{did}/approve"),
            Some(&bea),
            json!({}),
        )
        .await;
    r.expect(200);
    assert!(r.json().get("approval").is_none(), "{}", r.text);
    // Approved, it cancels what still waited for the resource.
    assert_eq!(request(&app, &bea, &change).await["state"], "rejected");
    let done = settled(&app, &bea, &did).await;
    assert_eq!(
        (done["state"].as_str(), done["resource_state"].as_str()),
        (Some("fulfilled"), Some("destroyed")),
        "{done}"
    );
    app.stop().await;
}

/// A typo in the policy refuses the boot, naming the YAML path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_typo_refuses_the_boot() {
    let sb = Sandbox::new(Engine::Sqlite).await;
    for (yaml, path) in [
        (
            "  auto_approve: { gold: {} }\n",
            "provisioning.auto_approve.gold",
        ),
        (
            "  auto_approve: { poc: { max_usd: 1 } }\n",
            "provisioning.auto_approve.poc.max_usd",
        ),
    ] {
        let (st, out) = TestApp::expect_refused(
            &sb,
            Opts::new()
                .process()
                .yaml(&format!("{RUNBOOK_YAML}provisioning:\n{yaml}")),
        )
        .await;
        assert!(!st.success(), "{out}");
        assert!(out.contains(path), "{path}: {out}");
    }
}

/// A review date already past counts as overdue at once, before the sweep
/// marks it: the catalog and a request both lose auto-approval for it.
async fn past_review_date_loses_auto_approval(engine: Engine) {
    let app = TestApp::spawn(engine, unarmed()).await;
    let admin = app.admin_token().await;
    let mut ev = crate::support::governance::full_evidence();
    ev.insert("recurring_review_date".into(), json!("2001-02-03"));
    let pid = app
        .register_project(
            &admin,
            json!({"name": "Late", "owner_email": "owner@corp.example", "manager_email": "mgr@corp.example",
                   "group": "platform", "budget_usd": 100, "classification": "light-operational",
                   "evidence": ev}),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let list = app
        .get(&format!("/api/services?project={pid}"), Some(&admin))
        .await
        .json();
    let a = approval_of(&list, "ecr-repository");
    assert_eq!(a["auto"], false, "{a}");
    assert!(
        codes(&a["reasons"]).contains(&"review_overdue".to_string()),
        "{a}"
    );
    let r = app
        .post(
            &format!("/api/projects/{pid}/resources"),
            Some(&admin),
            json!({"service": "ecr-repository", "name": "late-repo"}),
        )
        .await;
    r.expect(202);
    assert_eq!(r.json()["needs_approval"], true, "{}", r.text);
    // An empty `?project=` is no project, not a project named "".
    app.get("/api/services?project=", Some(&admin))
        .await
        .expect(200);
}

crate::both_engines! {
    catalog_and_appendix => catalog_and_the_appendix,
    gated_destroy => gated_changes_and_destroys_wait,
    review_overdue_by_date => past_review_date_loses_auto_approval,
}
