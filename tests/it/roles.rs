//! Roles and scoping: members see and change only
//! projects they own or manage; auditors read everything and change
//! nothing; there is always one active admin; disabling a user ends their
//! sessions.

use serde_json::json;

use crate::support::{Engine, Opts, TestApp, db};

fn ids(v: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = v["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["project_id"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

async fn roles(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().process()).await;
    let admin = app.admin_token().await;
    let (apw, bpw, dpw) = (
        "alice-password-123",
        "bob-password-1234",
        "audrey-password-12",
    );
    let alice = app
        .create_user(&admin, "alice", "Alice@Corp.Example", apw, "member")
        .await;
    let bob = app
        .create_user(&admin, "bob", "bob@corp.example", bpw, "member")
        .await;
    app.create_user(&admin, "audrey", "audrey@corp.example", dpw, "auditor")
        .await;
    app.post(
        "/api/users",
        Some(&admin),
        json!({"username": "alice", "password": "another-password-1", "role": "member"}),
    )
    .await
    .expect_error(409, "conflict");

    let reg = |owner: &str, manager: &str, name: &str| json!({"name": name, "owner_email": owner, "manager_email": manager, "group": "platform"});
    let p_alice = app
        .register_project(
            &admin,
            reg("alice@corp.example", "mgr@corp.example", "Alice's"),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let p_bob = app
        .register_project(
            &admin,
            reg("owner@corp.example", "bob@corp.example", "Bob managed"),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let p_other = app.register_named(&admin, "Nobody's").await;

    // A member, logged in by email (case-insensitive).
    let ta = app.login("ALICE@corp.example", apw).await;
    let me = app.get("/api/auth/me", Some(&ta)).await.json();
    assert_eq!(me["role"], "member");
    assert_eq!(me["email"], "alice@corp.example");
    assert_eq!(
        ids(&app.get("/api/projects", Some(&ta)).await.json()),
        vec![p_alice.clone()]
    );
    app.get(&format!("/api/projects/{p_other}"), Some(&ta))
        .await
        .expect_error(404, "not_found");
    app.get(&format!("/api/projects/{p_other}/keys"), Some(&ta))
        .await
        .expect_error(404, "not_found");
    app.post(
        &format!("/api/projects/{p_other}/keys"),
        Some(&ta),
        json!({"name": "x"}),
    )
    .await
    .expect_error(404, "not_found");
    app.patch(
        &format!("/api/projects/{p_other}"),
        Some(&ta),
        json!({"name": "Mine now"}),
    )
    .await
    .expect_error(404, "not_found");
    app.post(
        &format!("/api/projects/{p_other}/kill"),
        Some(&ta),
        json!({"reason": "x"}),
    )
    .await
    .expect_error(404, "not_found");
    app.mint_key(&ta, &p_alice, "alice-agent").await;
    app.patch(
        &format!("/api/projects/{p_alice}"),
        Some(&ta),
        json!({"name": "Alice's agent"}),
    )
    .await
    .expect(200);
    for body in [
        json!({"owner_email": "alice2@corp.example"}),
        json!({"group": "platform2"}),
    ] {
        app.patch(&format!("/api/projects/{p_alice}"), Some(&ta), body)
            .await
            .expect_error(403, "forbidden");
    }
    // Members register only projects they own or manage.
    app.post(
        "/api/projects",
        Some(&ta),
        reg("owner@corp.example", "mgr@corp.example", "Not mine"),
    )
    .await
    .expect_error(403, "forbidden");
    let p_alice2 = app
        .register_project(
            &ta,
            reg("owner@corp.example", "alice@corp.example", "Alice manages"),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut mine = vec![p_alice.clone(), p_alice2.clone()];
    mine.sort();
    assert_eq!(ids(&app.get("/api/projects", Some(&ta)).await.json()), mine);
    // A manager (not owner) may not decommission; user admin is for admins.
    app.post(
        &format!("/api/projects/{p_alice2}/decommission"),
        Some(&ta),
        json!({"reason": "r", "confirm": p_alice2}),
    )
    .await
    .expect_error(403, "forbidden");
    app.get("/api/users", Some(&ta))
        .await
        .expect_error(403, "forbidden");
    app.post(
        "/api/users",
        Some(&ta),
        json!({"username": "eve", "password": "eve-password-123", "role": "admin"}),
    )
    .await
    .expect_error(403, "forbidden");
    app.patch(
        &format!("/api/users/{alice}"),
        Some(&ta),
        json!({"role": "admin"}),
    )
    .await
    .expect_error(403, "forbidden");
    // The audit log, scoped to the member's projects.
    let ev = app.get("/api/audit?limit=500", Some(&ta)).await.json();
    let evs = ev["events"].as_array().unwrap();
    assert!(!evs.is_empty());
    for e in evs {
        let p = e["project_id"].as_str().unwrap_or("");
        assert!(
            mine.iter().any(|m| m == p),
            "member sees a foreign event: {e}"
        );
    }

    // Bob manages p_bob and sees only it.
    let tb = app.login("bob", bpw).await;
    assert_eq!(
        ids(&app.get("/api/projects", Some(&tb)).await.json()),
        vec![p_bob.clone()]
    );

    // The auditor reads everything and changes nothing.
    let td = app.login("audrey", dpw).await;
    let all = ids(&app.get("/api/projects", Some(&td)).await.json());
    assert_eq!(all.len(), 4);
    app.get(&format!("/api/projects/{p_other}"), Some(&td))
        .await
        .expect(200);
    app.get(&format!("/api/projects/{p_alice}/keys"), Some(&td))
        .await
        .expect(200);
    app.get("/api/users", Some(&td)).await.expect(200);
    let audit = app.get("/api/audit?limit=500", Some(&td)).await.json();
    assert!(
        audit["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "user.created")
    );
    let before = db::row_counts(&app.sandbox).await;
    let pa = format!("/api/projects/{p_alice}");
    for (m, path, body) in [
        (
            "POST",
            "/api/projects".to_string(),
            reg("audrey@corp.example", "audrey@corp.example", "Audit"),
        ),
        ("PATCH", pa.clone(), json!({"description": "x"})),
        ("POST", format!("{pa}/keys"), json!({"name": "x"})),
        ("DELETE", format!("{pa}/keys/whatever"), json!({})),
        ("POST", format!("{pa}/kill"), json!({"reason": "x"})),
        ("POST", format!("{pa}/unkill"), json!({})),
        (
            "POST",
            format!("{pa}/decommission"),
            json!({"reason": "x", "confirm": p_alice}),
        ),
        (
            "POST",
            "/api/users".to_string(),
            json!({"username": "eve", "password": "eve-password-123"}),
        ),
        (
            "PATCH",
            format!("/api/users/{bob}"),
            json!({"active": false}),
        ),
    ] {
        app.req(m.parse().unwrap(), &path, Some(&td), Some(body))
            .await
            .expect_error(403, "forbidden");
    }
    assert_eq!(
        before,
        db::row_counts(&app.sandbox).await,
        "an auditor's request wrote"
    );

    // Last-admin protection.
    let admin_id = app.get("/api/auth/me", Some(&admin)).await.json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for body in [
        json!({"role": "member"}),
        json!({"role": "auditor"}),
        json!({"active": false}),
    ] {
        app.patch(&format!("/api/users/{admin_id}"), Some(&admin), body)
            .await
            .expect_error(409, "conflict");
    }
    app.get("/api/auth/me", Some(&admin)).await.expect(200);
    let r = app
        .patch(
            &format!("/api/users/{alice}"),
            Some(&admin),
            json!({"role": "admin"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["role"], "admin");
    app.patch(
        &format!("/api/users/{admin_id}"),
        Some(&ta),
        json!({"role": "member"}),
    )
    .await
    .expect(200);
    app.patch(
        &format!("/api/users/{alice}"),
        Some(&ta),
        json!({"role": "member"}),
    )
    .await
    .expect_error(409, "conflict");
    app.patch(
        &format!("/api/users/{admin_id}"),
        Some(&ta),
        json!({"role": "admin"}),
    )
    .await
    .expect(200);

    // Disabling a user ends their sessions, PATs and logins.
    let bob_pat = app.mint_pat(&tb, "bob-laptop").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.get("/api/auth/me", Some(&bob_pat)).await.expect(200);
    app.patch(
        &format!("/api/users/{bob}"),
        Some(&admin),
        json!({"active": false}),
    )
    .await
    .expect(200);
    app.get("/api/auth/me", Some(&tb))
        .await
        .expect_error(401, "authentication_required");
    app.get("/api/auth/me", Some(&bob_pat))
        .await
        .expect_error(401, "authentication_required");
    app.post(
        "/api/auth/login",
        None,
        json!({"username": "bob", "password": bpw}),
    )
    .await
    .expect_error(401, "invalid_credentials");

    app.leak_scan(&[apw, bpw, dpw]).await;
}

crate::both_engines!(members_auditors_and_the_last_admin => roles);
