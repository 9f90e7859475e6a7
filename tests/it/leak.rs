//! The leak scan as a test of its own: with verbose logging,
//! exercise every kind of credential — passwords (configured, created,
//! changed, mistyped), sessions, PATs, project keys — then require that none
//! of them appears in plaintext in any table, the SQLite files, the process
//! log or the audit log.

use serde_json::json;

use crate::support::{Engine, Opts, TestApp};

async fn leak_scan(engine: Engine) {
    let admin_pw = "configured-admin-password-7";
    let app = TestApp::spawn(
        engine,
        Opts::new()
            .process()
            .admin_password(admin_pw)
            .env("ASGARD_LOG", "debug"),
    )
    .await;
    assert!(
        !app.log().contains("password: "),
        "a configured password is not printed"
    );
    let typo = "configured-admin-passwort-7";
    app.post(
        "/api/auth/login",
        None,
        json!({"username": "admin", "password": typo}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    let admin = app.admin_token().await;

    // PATs: mint, use, list, revoke, use again.
    let pat = app.mint_pat(&admin, "leaky").await;
    let pat_tok = pat["token"].as_str().unwrap().to_string();
    app.get("/api/projects", Some(&pat_tok)).await.expect(200);
    app.get("/api/auth/tokens", Some(&admin)).await.expect(200);
    app.delete(
        &format!("/api/auth/tokens/{}", pat["id"].as_str().unwrap()),
        Some(&admin),
    )
    .await
    .expect(204);
    app.get("/api/projects", Some(&pat_tok)).await.expect(401);

    // Keys: mint, list, use, revoke.
    let pid = app.register_named(&admin, "Leak check").await;
    let k = app.mint_key(&admin, &pid, "agent").await;
    let key = k["key"].as_str().unwrap().to_string();
    app.get(&format!("/api/projects/{pid}/keys"), Some(&admin))
        .await
        .expect(200);
    app.get("/api/projects", Some(&key)).await.expect(401);
    app.delete(
        &format!("/api/projects/{pid}/keys/{}", k["key_id"].as_str().unwrap()),
        Some(&admin),
    )
    .await
    .expect(204);
    app.mint_key(&admin, &pid, "second").await;

    // A member: created, logs in, changes the password, logs out.
    let (m1, m2) = ("member-first-password", "member-second-password");
    app.create_user(&admin, "leaky", "leaky@corp.example", m1, "member")
        .await;
    let tm = app.login("leaky", m1).await;
    app.post(
        "/api/auth/password",
        Some(&tm),
        json!({"current_password": m1, "new_password": m2}),
    )
    .await
    .expect(200);
    let tm = app.login("leaky@corp.example", m2).await;
    app.mint_pat(&tm, "member-pat").await;
    app.post("/api/auth/logout", Some(&tm), json!({}))
        .await
        .expect(204);

    // A credential sent where it does not belong is not echoed into logs either.
    app.get("/api/projects", Some(&format!("{pat_tok}x")))
        .await
        .expect(401);

    app.leak_scan(&[admin_pw, typo, m1, m2]).await;
}

crate::both_engines!(no_credential_in_plaintext_anywhere => leak_scan);

/// The scanner is not vacuous: a credential planted in a table is found.
async fn scanner_finds_a_plant(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().process()).await;
    let tok = app.admin_token().await;
    let fake = format!("asg_pat_{}", "ab".repeat(32));
    app.register_project(
        &tok,
        json!({"name": "Planted", "owner_email": "owner@corp.example",
        "manager_email": "mgr@corp.example", "group": "platform", "description": fake}),
    )
    .await;
    app.remember(&fake);
    let scan = tokio::spawn(async move { app.leak_scan(&[]).await });
    let err = scan
        .await
        .expect_err("the leak scan missed a planted credential");
    assert!(err.is_panic());
}

crate::both_engines!(leak_scan_finds_a_planted_credential => scanner_finds_a_plant);
