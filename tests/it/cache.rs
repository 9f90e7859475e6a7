//! Credentials and project lists are cached in process on SQLite (exact,
//! invalidated by every committed write) and never on Postgres. Either way a
//! revoke, logout, kill, decommission, deactivation or role change takes
//! effect on the very next request; each check below warms the path first so
//! a cached answer would be served if invalidation were missing.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Engine, Opts, Sandbox, TestApp};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"0"}}}"#;

/// The status of an MCP `initialize` with this credential (200 = accepted).
async fn mcp_status(app: &TestApp, tok: &str) -> u16 {
    app.send(
        reqwest::Method::POST,
        "/mcp",
        Some(tok),
        &[("accept", "application/json, text/event-stream")],
        Some(INIT.as_bytes().to_vec()),
    )
    .await
    .status
}

/// `GET /api/projects` as `tok`, twice (the second may come from a cache);
/// both answers must agree. Returns the project ids.
async fn listed(app: &TestApp, tok: &str) -> Vec<String> {
    let first = app.get("/api/projects", Some(tok)).await;
    first.expect(200);
    let second = app.get("/api/projects", Some(tok)).await;
    second.expect(200);
    assert_eq!(first.text, second.text, "a repeated read changed");
    assert_eq!(
        second.header("content-type").as_deref(),
        Some("application/json")
    );
    second.json()["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["project_id"].as_str().unwrap().to_string())
        .collect()
}

/// `GET /api/auth/me` twice with `tok`, asserting 200 (warms the cache).
async fn warm(app: &TestApp, tok: &str) {
    for _ in 0..2 {
        app.get("/api/auth/me", Some(tok)).await.expect(200);
    }
}

async fn next_request_sees_changes(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        "alice",
        "owner@corp.example",
        "alice-password-123",
        "member",
    )
    .await;
    let alice = app.login("alice", "alice-password-123").await;

    // A registration shows in the owner's (cached) list at once.
    assert!(listed(&app, &alice).await.is_empty());
    let pid = app.register_named(&admin, "Cached").await;
    assert_eq!(listed(&app, &alice).await, vec![pid.clone()]);

    // A patch shows at once.
    let before = app.get("/api/projects", Some(&alice)).await.text;
    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&admin),
        json!({"description": "changed"}),
    )
    .await
    .expect(200);
    let after = app.get("/api/projects", Some(&alice)).await;
    assert_ne!(before, after.text);
    assert_eq!(after.json()["projects"][0]["description"], "changed");

    // Role change: a member sees her own projects, an auditor sees all.
    let other = app
        .register_project(
            &admin,
            json!({"name": "Other", "owner_email": "else@corp.example",
                   "manager_email": "else@corp.example", "group": "platform", "budget_usd": 1}),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(listed(&app, &alice).await, vec![pid.clone()]);
    let alice_id = app.get("/api/auth/me", Some(&alice)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let set_role = |role: &'static str| {
        let (app, admin, alice_id) = (&app, &admin, &alice_id);
        async move {
            app.patch(
                &format!("/api/users/{alice_id}"),
                Some(admin),
                json!({"role": role}),
            )
            .await
            .expect(200);
        }
    };
    set_role("auditor").await;
    assert_eq!(
        app.get("/api/auth/me", Some(&alice)).await.json()["role"],
        "auditor"
    );
    assert_eq!(listed(&app, &alice).await, vec![other.clone(), pid.clone()]);
    set_role("member").await;
    assert_eq!(listed(&app, &alice).await, vec![pid.clone()]);

    // A revoked PAT fails on the next request, on /api and on /mcp.
    let pat = app.mint_pat(&alice, "laptop").await;
    let pat_tok = pat["token"].as_str().unwrap().to_string();
    warm(&app, &pat_tok).await;
    assert_eq!(mcp_status(&app, &pat_tok).await, 200);
    app.delete(
        &format!("/api/auth/tokens/{}", pat["id"].as_str().unwrap()),
        Some(&alice),
    )
    .await
    .expect(204);
    app.get("/api/auth/me", Some(&pat_tok)).await.expect(401);
    assert_eq!(mcp_status(&app, &pat_tok).await, 401);

    // Kill and unkill: the key stops and starts on the next request, and the
    // cached list shows the new state.
    let key = app.mint_key(&admin, &pid, "agent").await;
    let key_tok = key["key"].as_str().unwrap().to_string();
    for _ in 0..2 {
        assert_eq!(mcp_status(&app, &key_tok).await, 200);
    }
    app.post(
        &format!("/api/projects/{pid}/kill"),
        Some(&admin),
        json!({"reason": "cache test"}),
    )
    .await
    .expect(200);
    assert_eq!(mcp_status(&app, &key_tok).await, 401);
    let killed = app.get("/api/projects", Some(&alice)).await.json();
    assert_eq!(killed["projects"][0]["killed"], true);
    app.post(
        &format!("/api/projects/{pid}/unkill"),
        Some(&admin),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(mcp_status(&app, &key_tok).await, 200);

    // A revoked key fails on the next request.
    let path = format!(
        "/api/projects/{pid}/keys/{}",
        key["key_id"].as_str().unwrap()
    );
    app.delete(&path, Some(&admin)).await.expect(204);
    assert_eq!(mcp_status(&app, &key_tok).await, 401);

    // Decommission revokes every key at once.
    let key2 = app.mint_key(&admin, &pid, "agent-2").await["key"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..2 {
        assert_eq!(mcp_status(&app, &key2).await, 200);
    }
    app.post(
        &format!("/api/projects/{pid}/decommission"),
        Some(&admin),
        json!({"reason": "done", "confirm": pid}),
    )
    .await
    .expect(200);
    assert_eq!(mcp_status(&app, &key2).await, 401);
    let page: Value = app.get("/api/projects", Some(&alice)).await.json();
    assert_eq!(page["projects"][0]["lifecycle"], "decommissioned");

    // Logout ends the session on the next request.
    warm(&app, &alice).await;
    app.post("/api/auth/logout", Some(&alice), json!({}))
        .await
        .expect(204);
    app.get("/api/auth/me", Some(&alice)).await.expect(401);
    app.get("/api/projects", Some(&alice)).await.expect(401);

    // Deactivation ends a warm session and PAT on the next request.
    let alice = app.login("alice", "alice-password-123").await;
    let pat2 = app.mint_pat(&alice, "second").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    warm(&app, &alice).await;
    warm(&app, &pat2).await;
    app.patch(
        &format!("/api/users/{alice_id}"),
        Some(&admin),
        json!({"active": false}),
    )
    .await
    .expect(200);
    app.get("/api/auth/me", Some(&alice)).await.expect(401);
    app.get("/api/auth/me", Some(&pat2)).await.expect(401);
    assert_eq!(mcp_status(&app, &pat2).await, 401);
}

/// Two replicas on one Postgres: a change made through one takes effect on
/// the other's very next request (no cache, so no staleness window).
async fn across_replicas() {
    let sb = Sandbox::new(Engine::Postgres).await;
    let pw = "replica-admin-password-1";
    let a = Arc::new(TestApp::spawn_in(&sb, Opts::new().admin_password(pw)).await);
    let b = Arc::new(TestApp::spawn_in(&sb, Opts::new().admin_password(pw)).await);
    let admin = a.login("admin", pw).await;
    let pid = a.register_named(&admin, "Replicated").await;
    let key = a.mint_key(&admin, &pid, "agent").await;
    let key_tok = key["key"].as_str().unwrap().to_string();
    let pat = a.mint_pat(&admin, "laptop").await;
    let pat_tok = pat["token"].as_str().unwrap().to_string();
    for _ in 0..2 {
        assert_eq!(mcp_status(&b, &key_tok).await, 200);
        b.get("/api/auth/me", Some(&pat_tok)).await.expect(200);
    }
    assert_eq!(
        b.get("/api/projects", Some(&admin)).await.json()["projects"][0]["killed"],
        false
    );

    a.post(
        &format!("/api/projects/{pid}/kill"),
        Some(&admin),
        json!({"reason": "replica test"}),
    )
    .await
    .expect(200);
    assert_eq!(mcp_status(&b, &key_tok).await, 401);
    assert_eq!(
        b.get("/api/projects", Some(&admin)).await.json()["projects"][0]["killed"],
        true
    );

    a.delete(
        &format!("/api/auth/tokens/{}", pat["id"].as_str().unwrap()),
        Some(&admin),
    )
    .await
    .expect(204);
    b.get("/api/auth/me", Some(&pat_tok)).await.expect(401);

    let session = b.login("admin", pw).await;
    warm(&b, &session).await;
    a.post("/api/auth/logout", Some(&session), json!({}))
        .await
        .expect(204);
    b.get("/api/auth/me", Some(&session)).await.expect(401);
}

crate::both_engines!(next_request => next_request_sees_changes);
crate::postgres_only!(replica_changes => across_replicas);
