//! Concurrency and replication: 50 parallel registrations get 50 distinct,
//! gap-free ids; two replicas on one Postgres serve the same data
//! and share sessions, and registrations across both stay gap-free.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::json;

use crate::support::{Engine, Opts, Sandbox, TestApp};

/// Register `n` projects at once through `apps` (round robin); returns the
/// sequence numbers of the ids.
async fn register_in_parallel(apps: &[Arc<TestApp>], tokens: &[String], n: usize) -> Vec<u32> {
    let mut handles = Vec::new();
    for i in 0..n {
        let app = apps[i % apps.len()].clone();
        let tok = tokens[i % tokens.len()].clone();
        handles.push(tokio::spawn(async move {
            let body = json!({"name": format!("Parallel {i}"), "owner_email": "owner@corp.example",
                "manager_email": "mgr@corp.example", "group": "platform", "budget_usd": i});
            let p = app.register_project(&tok, body).await;
            p["project_id"].as_str().unwrap().to_string()
        }));
    }
    let year = chrono::Utc::now().format("%Y").to_string();
    let mut seqs = Vec::new();
    for h in handles {
        let id = h.await.expect("a registration task failed");
        assert!(id.starts_with(&format!("proj-{year}-")), "{id}");
        seqs.push(id[10..].parse::<u32>().unwrap());
    }
    seqs
}

fn assert_gap_free(seqs: &[u32], from: u32, to: u32) {
    let set: BTreeSet<u32> = seqs.iter().copied().collect();
    assert_eq!(set.len(), seqs.len(), "duplicate ids: {seqs:?}");
    let want: BTreeSet<u32> = (from..=to).collect();
    assert_eq!(set, want, "ids are not gap-free");
}

async fn fifty_parallel(engine: Engine) {
    let app = Arc::new(TestApp::spawn(engine, Opts::new()).await);
    let tok = app.admin_token().await;
    let seqs =
        register_in_parallel(std::slice::from_ref(&app), std::slice::from_ref(&tok), 50).await;
    assert_gap_free(&seqs, 1, 50);

    let r = app.get("/api/projects?limit=500", Some(&tok)).await;
    r.expect(200);
    assert_eq!(r.json()["projects"].as_array().unwrap().len(), 50);
    let r = app
        .get("/api/audit?action=project.registered&limit=500", Some(&tok))
        .await;
    r.expect(200);
    assert_eq!(
        r.json()["events"].as_array().unwrap().len(),
        50,
        "one audit event per registration"
    );
}

async fn two_replicas() {
    let sb = Sandbox::new(Engine::Postgres).await;
    let pw = "replica-admin-password-1";
    // Both boot against the same database (the second finds it migrated).
    let a = Arc::new(TestApp::spawn_in(&sb, Opts::new().process().admin_password(pw)).await);
    let b = Arc::new(TestApp::spawn_in(&sb, Opts::new().process().admin_password(pw)).await);
    assert_ne!(a.addr, b.addr);
    b.get("/readyz", None).await.expect(200);

    // A project registered via A is readable via B.
    let ta = a.login("admin", pw).await;
    let pid = a.register_named(&ta, "Replicated").await;
    let r = b.get(&format!("/api/projects/{pid}"), Some(&ta)).await;
    r.expect(200);
    assert_eq!(r.json()["name"], "Replicated");

    // A session from A works on B, a key minted on B lists on A, and a
    // logout on B ends the session on A.
    let tb = b.login("admin", pw).await;
    let k = b.mint_key(&ta, &pid, "agent").await;
    let r = a.get(&format!("/api/projects/{pid}/keys"), Some(&tb)).await;
    r.expect(200);
    assert_eq!(r.json()["keys"][0]["key_id"], k["key_id"]);
    b.post("/api/auth/logout", Some(&ta), json!({}))
        .await
        .expect(204);
    a.get("/api/auth/me", Some(&ta))
        .await
        .expect_error(401, "authentication_required");

    // Registrations split over both replicas stay distinct and gap-free.
    let seqs = register_in_parallel(&[a.clone(), b.clone()], std::slice::from_ref(&tb), 40).await;
    assert_gap_free(&seqs, 2, 41);
    let from_b = b.secrets();
    let mut extra: Vec<&str> = from_b.iter().map(String::as_str).collect();
    extra.push(pw);
    a.leak_scan(&extra).await;
}

/// Two replicas booting at once on an empty database: migrations are
/// serialised, and exactly one bootstrap admin (one `password:` line) results.
async fn replicas_boot_together() {
    let sb = Sandbox::new(Engine::Postgres).await;
    let (a, b) = tokio::join!(
        TestApp::spawn_in(&sb, Opts::new().process()),
        TestApp::spawn_in(&sb, Opts::new().process())
    );
    let (mut a, mut b) = (a, b);
    let printed = [&a, &b]
        .iter()
        .filter(|x| x.admin_password_generated)
        .count();
    assert_eq!(
        printed,
        1,
        "password lines: a={:?} b={:?}",
        a.log(),
        b.log()
    );
    let pw = if a.admin_password_generated {
        a.admin_password.clone()
    } else {
        b.admin_password.clone()
    };
    a.admin_password = pw.clone();
    b.admin_password = pw;
    a.admin_token().await;
    b.admin_token().await;
    let users = b
        .get("/api/users", Some(&a.admin_token().await))
        .await
        .json();
    assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
}

/// Concurrent demotions of the only two admins never leave none.
async fn concurrent_demotions(engine: Engine) {
    let app = Arc::new(TestApp::spawn(engine, Opts::new()).await);
    let admin = app.admin_token().await;
    let admin_id = app.get("/api/auth/me", Some(&admin)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pw = "second-admin-password-1";
    let second = app
        .create_user(&admin, "root2", "root2@corp.example", pw, "admin")
        .await;
    let t2 = app.login("root2", pw).await;
    for round in 0..5 {
        // Each admin demotes the other, at the same time.
        let (px, py) = (
            format!("/api/users/{second}"),
            format!("/api/users/{admin_id}"),
        );
        let (x, y) = tokio::join!(
            app.patch(&px, Some(&admin), json!({"role": "member"})),
            app.patch(&py, Some(&t2), json!({"role": "member"})),
        );
        let ok = [x.status, y.status].iter().filter(|s| **s == 200).count();
        assert!(
            ok <= 1,
            "round {round}: both demotions succeeded ({}, {})",
            x.text,
            y.text
        );
        let users = app.get("/api/users", Some(&admin)).await;
        let users = if users.status == 200 {
            users
        } else {
            app.get("/api/users", Some(&t2)).await
        };
        let admins = users.json()["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "admin" && u["active"] == true)
            .count();
        assert_eq!(admins, 1, "round {round}: {} admins", admins);
        // Restore: whoever is still admin promotes the other.
        let (who, tok) = if x.status == 200 {
            (&second, &admin)
        } else {
            (&admin_id, &t2)
        };
        app.patch(
            &format!("/api/users/{who}"),
            Some(tok),
            json!({"role": "admin"}),
        )
        .await
        .expect(200);
    }
}

crate::both_engines!(
    fifty_parallel_registrations_are_gap_free => fifty_parallel,
    concurrent_demotions_keep_an_admin => concurrent_demotions,
);
/// The HTTP status of an MCP `whoami` call with `tok`.
async fn mcp_whoami(app: &TestApp, tok: String) -> u16 {
    let body = serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}}))
    .unwrap();
    app.send(
        reqwest::Method::POST,
        "/mcp",
        Some(&tok),
        &[
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        Some(body),
    )
    .await
    .status
}

/// Revocation on one replica takes effect at once on the other, for each
/// kind of credential: a session (logout), a PAT and a project key, each
/// used on B just before and just after it is revoked on A.
async fn revocation_across_replicas() {
    let sb = Sandbox::new(Engine::Postgres).await;
    let pw = "replica-admin-password-2";
    let a = TestApp::spawn_in(&sb, Opts::new().admin_password(pw)).await;
    let b = TestApp::spawn_in(&sb, Opts::new().admin_password(pw)).await;
    let admin = a.login("admin", pw).await;
    let session = a.login("admin", pw).await;
    let pat = a.mint_pat(&admin, "replicated").await;
    let pat_tok = pat["token"].as_str().unwrap().to_string();
    let pid = a.register_named(&admin, "Revocations").await;
    let key = a.mint_key(&admin, &pid, "agent").await;
    let key_tok = key["key"].as_str().unwrap().to_string();
    // All three work on B (and so are warm in whatever B keeps).
    b.get("/api/auth/me", Some(&session)).await.expect(200);
    b.get("/api/auth/me", Some(&pat_tok)).await.expect(200);
    assert_eq!(mcp_whoami(&b, key_tok.clone()).await, 200);
    assert_eq!(mcp_whoami(&b, pat_tok.clone()).await, 200);
    // Revoked on A…
    a.post("/api/auth/logout", Some(&session), json!({}))
        .await
        .expect(204);
    a.delete(
        &format!("/api/auth/tokens/{}", pat["id"].as_str().unwrap()),
        Some(&admin),
    )
    .await
    .expect(204);
    a.delete(
        &format!(
            "/api/projects/{pid}/keys/{}",
            key["key_id"].as_str().unwrap()
        ),
        Some(&admin),
    )
    .await
    .expect(204);
    // …refused on B at once.
    b.get("/api/auth/me", Some(&session))
        .await
        .expect_error(401, "authentication_required");
    b.get("/api/auth/me", Some(&pat_tok))
        .await
        .expect_error(401, "authentication_required");
    assert_eq!(mcp_whoami(&b, key_tok).await, 401);
    assert_eq!(mcp_whoami(&b, pat_tok).await, 401);
    b.get("/api/auth/me", Some(&admin)).await.expect(200);
}

crate::postgres_only!(
    revocation_takes_effect_on_every_replica => revocation_across_replicas,
    two_replicas_share_one_postgres => two_replicas,
    replicas_booting_together_make_one_admin => replicas_boot_together,
);
