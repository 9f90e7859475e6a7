//! Identity and separation of duties: a key's requests count as its
//! minter's (and, for approval, its project owner's); a PAT mints no PAT by
//! default and never one outliving itself; a password change ends the other
//! sessions and can revoke PATs. Disabling a user is in `offboarding`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Engine, Opts, RUNBOOK_YAML, TestApp};

const ADMIN_PW: &str = "the-admin-password-1";

/// A PAT's token minted from `tok`.
async fn new_pat(app: &TestApp, tok: &str, name: &str) -> String {
    app.mint_pat(tok, name).await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn request_state(app: &TestApp, tok: &str, rid: &str) -> String {
    let r = app.get(&format!("/api/requests/{rid}"), Some(tok)).await;
    r.expect(200);
    r.json()["state"].as_str().unwrap_or_default().to_string()
}

/// Armed (real Terraform, the provider-free `demo-token` module) with no
/// tier auto-approved, so every request waits for an admin.
fn armed(sandbox_dir: &std::path::Path) -> Opts {
    let modules = concat!(env!("CARGO_MANIFEST_DIR"), "/modules");
    let yaml = format!("{RUNBOOK_YAML}provisioning:\n  auto_approve: {{ classifications: [] }}\n");
    Opts::new()
        .yaml(&yaml)
        .admin_password(ADMIN_PW)
        .env("ASGARD_TF_MODULES_DIR", modules)
        .env(
            "ASGARD_TF_WORK_DIR",
            &sandbox_dir.join("tf-work").display().to_string(),
        )
}

async fn key_requests_need_an_independent_approver(engine: Engine) {
    let sb = crate::support::Sandbox::new(engine).await;
    let app = TestApp::spawn_in(&sb, armed(&sb.dir).process()).await;
    let admin = app.admin_token().await;
    // Two more admins: Olga owns the project, Bea is independent of it.
    let mut tokens = Vec::new();
    for (name, email) in [("olga", "owner@corp.example"), ("bea", "bea@corp.example")] {
        let pw = format!("{name}-password-123");
        app.create_user(&admin, name, email, &pw, "admin").await;
        tokens.push(app.login(name, &pw).await);
    }
    let (olga, bea) = (tokens[0].clone(), tokens[1].clone());
    let pid = app.register_named(&admin, "Duties").await;

    // The bootstrap admin mints a key and asks through it.
    let key = app.mint_key(&admin, &pid, "agent").await;
    let key = key["key"].as_str().unwrap().to_string();
    let res = app
        .tool_call(
            &key,
            "request_resource",
            json!({"service": "demo-token", "name": "tok-one", "spec": {"label": "x"}}),
        )
        .await;
    let sc = &res["structuredContent"];
    assert_eq!(sc["state"], "pending_approval", "{res}");
    let rid = sc["request_id"].as_str().unwrap().to_string();
    let approve = format!("/api/requests/{rid}/approve");
    let reject = format!("/api/requests/{rid}/reject");

    // The minter can neither approve nor reject it, through a session or a PAT.
    app.post(&approve, Some(&admin), json!({"reason": "mine"}))
        .await
        .expect_error(403, "forbidden");
    let admin_pat = new_pat(&app, &admin, "admin-pat").await;
    app.post(&approve, Some(&admin_pat), json!({}))
        .await
        .expect_error(403, "forbidden");
    app.post(&reject, Some(&admin), json!({"reason": "mine"}))
        .await
        .expect_error(403, "forbidden");
    // The project's owner is on the requesting side of its key's requests.
    app.post(&approve, Some(&olga), json!({}))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(request_state(&app, &admin, &rid).await, "pending_approval");

    // A person's own request through the API: the owner may decide it, the
    // requester may not.
    let r = app
        .post(
            &format!("/api/projects/{pid}/resources"),
            Some(&bea),
            json!({"service": "demo-token", "name": "tok-two", "spec": {"label": "y"}}),
        )
        .await;
    r.expect(202);
    assert_eq!(r.json()["state"], "pending_approval", "{}", r.text);
    let rid2 = r.json()["request_id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/requests/{rid2}/approve"),
        Some(&bea),
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        &format!("/api/requests/{rid2}/reject"),
        Some(&olga),
        json!({"reason": "not now"}),
    )
    .await
    .expect(200);
    assert_eq!(request_state(&app, &admin, &rid2).await, "rejected");

    // An admin who neither minted the key nor owns the project approves,
    // and the run goes through.
    let r = app.post(&approve, Some(&bea), json!({})).await;
    r.expect(200);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut state = request_state(&app, &admin, &rid).await;
    while !matches!(state.as_str(), "fulfilled" | "failed") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        state = request_state(&app, &admin, &rid).await;
    }
    assert_eq!(state, "fulfilled", "the approved run ended {state}");

    // The refusals are the minter's and the owner's, in the audit log too:
    // exactly one approval, by Bea.
    let audit = app
        .get(
            &format!("/api/audit?project={pid}&action=request.approved"),
            Some(&admin),
        )
        .await
        .json();
    let approvals: Vec<&Value> = audit["events"].as_array().unwrap().iter().collect();
    assert_eq!(approvals.len(), 1, "{audit}");
    assert_eq!(approvals[0]["actor"], "user:bea@corp.example");
    app.leak_scan(&[ADMIN_PW]).await;
}

async fn pats_do_not_outlive_their_origin(engine: Engine) {
    // Default: a PAT mints no PAT.
    let app = TestApp::spawn(engine, Opts::new().admin_password(ADMIN_PW)).await;
    let admin = app.admin_token().await;
    let pat = new_pat(&app, &admin, "laptop").await;
    for body in [
        json!({"name": "child"}),
        json!({"name": "child", "expires_in_days": 1}),
    ] {
        app.post("/api/auth/tokens", Some(&pat), body)
            .await
            .expect_error(403, "forbidden");
    }
    let list = app.get("/api/auth/tokens", Some(&admin)).await.json();
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1, "{list}");
    drop(app);

    // Relaxed by config: allowed, but never outliving the minting PAT.
    let yaml = format!("{RUNBOOK_YAML}auth: {{ pats_can_mint_pats: true }}\n");
    let app = TestApp::spawn(
        engine,
        Opts::new().process().yaml(&yaml).admin_password(ADMIN_PW),
    )
    .await;
    let admin = app.admin_token().await;
    let parent = app
        .post(
            "/api/auth/tokens",
            Some(&admin),
            json!({"name": "parent", "expires_in_days": 2}),
        )
        .await;
    parent.expect(201);
    let parent = parent.json();
    let ptok = parent["token"].as_str().unwrap().to_string();
    let cap = chrono::DateTime::parse_from_rfc3339(parent["expires_at"].as_str().unwrap()).unwrap();
    app.post(
        "/api/auth/tokens",
        Some(&ptok),
        json!({"name": "longer", "expires_in_days": 3}),
    )
    .await
    .expect_invalid("expires_in_days");
    let r = app
        .post("/api/auth/tokens", Some(&ptok), json!({"name": "default"}))
        .await;
    r.expect(201);
    let exp =
        chrono::DateTime::parse_from_rfc3339(r.json()["expires_at"].as_str().unwrap()).unwrap();
    // Capped at the minting PAT's expiry (as stored: Postgres keeps microseconds).
    let short_of_cap = cap - exp;
    assert!(
        short_of_cap >= chrono::Duration::zero()
            && short_of_cap < chrono::Duration::milliseconds(1),
        "a default expiry is capped at the minting PAT's: {exp} vs {cap}"
    );
    let r = app
        .post(
            "/api/auth/tokens",
            Some(&ptok),
            json!({"name": "shorter", "expires_in_days": 1}),
        )
        .await;
    r.expect(201);
    let exp =
        chrono::DateTime::parse_from_rfc3339(r.json()["expires_at"].as_str().unwrap()).unwrap();
    assert!(exp < cap, "{exp} !< {cap}");
    app.leak_scan(&[ADMIN_PW]).await;
}

async fn password_change_ends_other_sessions(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().process().admin_password(ADMIN_PW)).await;
    let admin = app.admin_token().await;
    let (pw1, pw2, pw3, pw4) = (
        "carol-password-one",
        "carol-password-two",
        "carol-password-three",
        "carol-password-four",
    );
    for pw in [pw2, pw3, pw4] {
        app.remember(pw);
    }
    app.create_user(&admin, "carol", "carol@corp.example", pw1, "member")
        .await;
    let here = app.login("carol", pw1).await;
    let elsewhere = app.login("carol", pw1).await;
    let pat = new_pat(&app, &here, "ci").await;

    // Without revoke_tokens: the other session ends, this one and the PAT stay.
    let r = app
        .post(
            "/api/auth/password",
            Some(&here),
            json!({"current_password": pw1, "new_password": pw2}),
        )
        .await;
    r.expect(200);
    let v = r.json();
    assert_eq!(v["sessions_ended"], 1, "{v}");
    assert_eq!(v["current_session_kept"], true, "{v}");
    assert_eq!(v["tokens_revoked"], 0, "{v}");
    assert_eq!(v["tokens_active"], 1, "{v}");
    app.get("/api/auth/me", Some(&here)).await.expect(200);
    app.get("/api/auth/me", Some(&elsewhere))
        .await
        .expect_error(401, "authentication_required");
    app.get("/api/auth/me", Some(&pat)).await.expect(200);

    // With revoke_tokens: every PAT is revoked too.
    let again = app.login("carol", pw2).await;
    let r = app
        .post(
            "/api/auth/password",
            Some(&here),
            json!({"current_password": pw2, "new_password": pw3, "revoke_tokens": true}),
        )
        .await;
    r.expect(200);
    let v = r.json();
    assert_eq!(
        (
            &v["sessions_ended"],
            &v["tokens_revoked"],
            &v["tokens_active"]
        ),
        (&json!(1), &json!(1), &json!(0)),
        "{v}"
    );
    app.get("/api/auth/me", Some(&here)).await.expect(200);
    for gone in [&again, &pat] {
        app.get("/api/auth/me", Some(gone))
            .await
            .expect_error(401, "authentication_required");
    }

    // Through a PAT, no session is current: all of them end.
    let pat2 = new_pat(&app, &here, "ci-2").await;
    let r = app
        .post(
            "/api/auth/password",
            Some(&pat2),
            json!({"current_password": pw3, "new_password": pw4}),
        )
        .await;
    r.expect(200);
    let v = r.json();
    assert_eq!(v["sessions_ended"], 1, "{v}");
    assert_eq!(v["current_session_kept"], false, "{v}");
    app.get("/api/auth/me", Some(&here))
        .await
        .expect_error(401, "authentication_required");
    app.get("/api/auth/me", Some(&pat2)).await.expect(200);
    app.leak_scan(&[ADMIN_PW, pw1, pw2, pw3, pw4]).await;
}

/// A person's request is theirs by user id: once their email (and so their
/// actor text) changed, as single sign-on does at the next sign-in, they
/// still cannot approve it. Compared by actor text, they could.
async fn own_request_after_an_email_change(engine: Engine) {
    let sb = crate::support::Sandbox::new(engine).await;
    let app = TestApp::spawn_in(&sb, armed(&sb.dir)).await;
    let admin = app.admin_token().await;
    let pw = "dana-password-123";
    app.create_user(&admin, "dana", "dana@corp.example", pw, "admin")
        .await;
    let dana = app.login("dana", pw).await;
    let pid = app.register_named(&admin, "Renamed").await;
    let r = app
        .post(
            &format!("/api/projects/{pid}/resources"),
            Some(&dana),
            json!({"service": "demo-token", "name": "tok", "spec": {"label": "x"}}),
        )
        .await;
    r.expect(202);
    assert_eq!(r.json()["state"], "pending_approval", "{}", r.text);
    let rid = r.json()["request_id"].as_str().unwrap().to_string();
    crate::support::db::exec(
        &sb,
        "UPDATE users SET email = 'dana.new@corp.example' WHERE username = 'dana'",
    )
    .await;
    let dana = app.login("dana", pw).await;
    let me = app.get("/api/auth/me", Some(&dana)).await;
    me.expect(200);
    assert_eq!(me.json()["email"], "dana.new@corp.example", "{}", me.text);
    let approve = format!("/api/requests/{rid}/approve");
    app.post(&approve, Some(&dana), json!({}))
        .await
        .expect_error(403, "forbidden");
    assert_eq!(request_state(&app, &admin, &rid).await, "pending_approval");
    app.post(&approve, Some(&admin), json!({}))
        .await
        .expect(200);
}

crate::both_engines!(
    key_requests_independent_approver => key_requests_need_an_independent_approver,
    own_request_after_an_email_change => own_request_after_an_email_change,
    pat_minting => pats_do_not_outlive_their_origin,
    password_change => password_change_ends_other_sessions,
);
