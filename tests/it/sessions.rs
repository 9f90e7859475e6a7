//! Identity over HTTP: login, sessions and logout,
//! personal access tokens, password change, the login throttle, and
//! `/api/auth/config`.

use serde_json::json;

use crate::support::{Engine, Opts, TestApp, db};

async fn sessions_and_pats(engine: Engine) {
    let app = TestApp::spawn(
        engine,
        Opts::new()
            .process()
            .env("ASGARD_SYSTEM_NAME", "Acme Control Plane"),
    )
    .await;

    let r = app.get("/api/auth/config", None).await;
    r.expect(200);
    let c = r.json();
    assert_eq!(c["system_name"], "Acme Control Plane");
    assert_eq!(c["local"], true);
    assert_eq!(c["oidc"], false);
    assert_eq!(
        c["registration"],
        json!({"require_manager": true, "require_group": true})
    );
    assert!(c["version"].as_str().is_some_and(|v| !v.is_empty()));

    // Login: token, expiry, user, and the session cookie.
    let r = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "admin", "password": app.admin_password}),
        )
        .await;
    r.expect(200);
    let v = r.json();
    let tok = v["token"].as_str().unwrap().to_string();
    assert!(v["expires_at"].is_string());
    assert_eq!(v["user"]["username"], "admin");
    assert_eq!(v["user"]["role"], "admin");
    assert!(v["user"].get("password_hash").is_none());
    let cookie = r.header("set-cookie").expect("set-cookie");
    assert!(
        cookie.starts_with(&format!("asgard_session={tok}")),
        "{cookie}"
    );
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain-HTTP loopback cookie marked Secure: {cookie}"
    );

    // Same answer for a wrong password and an unknown user.
    let wrong = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "admin", "password": "not-the-password"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    let unknown = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "ghost", "password": "not-the-password"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    assert_eq!(wrong["message"], unknown["message"]);

    let r = app.get("/api/auth/me", Some(&tok)).await;
    r.expect(200);
    assert_eq!(r.json()["username"], "admin");

    // Personal access tokens: mint (shown once), use, list (no secret), revoke.
    let pat = app.mint_pat(&tok, "laptop").await;
    let pat_tok = pat["token"].as_str().unwrap().to_string();
    assert!(pat_tok.starts_with("asg_pat_"), "{pat_tok}");
    let exp = chrono::DateTime::parse_from_rfc3339(pat["expires_at"].as_str().unwrap()).unwrap();
    let days = (exp.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!(
        (89..=90).contains(&days),
        "default PAT expiry is {days} days"
    );
    let r = app.get("/api/auth/me", Some(&pat_tok)).await;
    r.expect(200);
    assert_eq!(r.json()["username"], "admin");
    app.get("/api/projects", Some(&pat_tok)).await.expect(200);
    let short = app
        .post(
            "/api/auth/tokens",
            Some(&tok),
            json!({"name": "short", "expires_in_days": 1}),
        )
        .await;
    short.expect(201);
    let r = app.get("/api/auth/tokens", Some(&tok)).await;
    r.expect(200);
    assert!(!r.text.contains(&pat_tok), "the PAT list shows the secret");
    let list = r.json()["tokens"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let row = list.iter().find(|t| t["id"] == pat["id"]).expect("listed");
    assert_eq!(row["name"], "laptop");
    assert!(
        row.get("token").is_none() && row.get("token_hash").is_none(),
        "{row}"
    );
    assert!(row.get("last_used_at").is_some(), "{row}");
    assert!(pat_tok.starts_with(row["prefix"].as_str().unwrap()));
    app.delete(
        &format!("/api/auth/tokens/{}", pat["id"].as_str().unwrap()),
        Some(&tok),
    )
    .await
    .expect(204);
    app.get("/api/auth/me", Some(&pat_tok))
        .await
        .expect_error(401, "authentication_required");
    app.delete(
        &format!("/api/auth/tokens/{}", pat["id"].as_str().unwrap()),
        Some(&tok),
    )
    .await
    .expect_error(404, "not_found");
    let r = app.get("/api/auth/tokens", Some(&tok)).await;
    let row = r.json()["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == pat["id"])
        .cloned()
        .unwrap();
    assert!(
        row["revoked_at"].is_string(),
        "revoked PAT lists revoked_at: {row}"
    );

    // Logout ends the session (and clears the cookie).
    let t2 = app.admin_token().await;
    let r = app.post("/api/auth/logout", Some(&t2), json!({})).await;
    r.expect(204);
    assert!(
        r.header("set-cookie")
            .unwrap_or_default()
            .contains("Max-Age=0")
    );
    app.get("/api/auth/me", Some(&t2))
        .await
        .expect_error(401, "authentication_required");
    app.get("/api/auth/me", Some(&tok)).await.expect(200);

    // Password change: needs the current one; ends the other sessions (this
    // one stays); the new one works.
    let new_pw = "a-brand-new-admin-password";
    let other = app.admin_token().await;
    app.post(
        "/api/auth/password",
        Some(&tok),
        json!({"current_password": app.admin_password, "new_password": new_pw}),
    )
    .await
    .expect(200);
    app.get("/api/auth/me", Some(&other))
        .await
        .expect_error(401, "authentication_required");
    app.get("/api/auth/me", Some(&tok)).await.expect(200);
    app.post(
        "/api/auth/login",
        None,
        json!({"username": "admin", "password": app.admin_password}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    let t3 = app.login("admin", new_pw).await;
    app.post(
        "/api/auth/password",
        Some(&t3),
        json!({"current_password": new_pw, "new_password": app.admin_password}),
    )
    .await
    .expect(200);

    app.leak_scan(&[new_pw]).await;
}

async fn throttle(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    for _ in 0..5 {
        app.post(
            "/api/auth/login",
            None,
            json!({"username": "admin", "password": "wrong-password-x"}),
        )
        .await
        .expect_error(401, "invalid_credentials");
    }
    // Locked out now, even with the right password.
    let r = app
        .post(
            "/api/auth/login",
            None,
            json!({"username": "admin", "password": app.admin_password}),
        )
        .await;
    r.expect_error(429, "too_many_attempts");
    let wait: u64 = r
        .header("retry-after")
        .expect("retry-after")
        .parse()
        .expect("seconds");
    assert!((1..=300).contains(&wait), "retry-after {wait}");
    // Per (client, username): another name is not locked.
    app.post(
        "/api/auth/login",
        None,
        json!({"username": "someone", "password": "wrong-password-x"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
    // Failures are audited, without the password.
    let counts = db::dump_tables(&app.sandbox).await;
    let failed: Vec<&String> = counts["audit_events"]
        .iter()
        .filter(|r| r.contains("auth.login_failed"))
        .collect();
    assert_eq!(failed.len(), 6, "{failed:?}");
    assert!(failed.iter().all(|r| !r.contains("wrong-password-x")));
}

crate::both_engines!(
    sessions_pats_and_logout => sessions_and_pats,
    login_throttle => throttle,
);
