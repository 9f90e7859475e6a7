//! The deploy runbook's steps 1–5, end to end against the built binary,
//! exactly as written: boot without ASGARD_ADMIN_PASSWORD, read the generated
//! credentials from the `password:` line, health and readiness, enforcement,
//! register the runbook's project, mint a key.

use reqwest::Method;
use serde_json::Value;

use crate::support::{Engine, Opts, RUNBOOK_PROJECT, TestApp};

fn is_project_id(s: &str) -> bool {
    // ^proj-[0-9]{4}-[0-9]{4}$
    let b = s.as_bytes();
    s.len() == 14
        && s.starts_with("proj-")
        && b[9] == b'-'
        && b[5..9].iter().all(u8::is_ascii_digit)
        && b[10..14].iter().all(u8::is_ascii_digit)
}

async fn runbook_steps(engine: Engine) {
    // Steps 1–3: nothing to prepare for the database; the config file holds
    // the group allowlist; boot without ASGARD_ADMIN_PASSWORD.
    let app = TestApp::spawn(engine, Opts::new().process()).await;
    assert!(
        app.admin_password_generated,
        "no `password:` line on stderr:\n{}",
        app.log()
    );
    assert!(
        app.admin_password.len() >= 20,
        "generated password shorter than 20 chars"
    );
    let log = app.log();
    let line = log
        .lines()
        .find(|l| l.contains("password: "))
        .expect("password line");
    assert!(
        line.contains("username: admin"),
        "the password line must name the user: {line}"
    );
    if engine == Engine::Sqlite {
        assert!(
            app.sandbox.sqlite_file().unwrap().is_file(),
            "the SQLite file (and its parent dir) must be created"
        );
    }

    let r = app.get("/healthz", None).await;
    r.expect(200);
    assert_eq!(r.text, "ok");
    let r = app.get("/readyz", None).await;
    r.expect(200);
    assert_eq!(r.text, "ready");

    // Step 4: a human route needs a session.
    app.get("/api/projects", None)
        .await
        .expect_error(401, "authentication_required");

    // Step 5, with enforcement on: log in, then the runbook's exact body.
    let tok = app.login("admin", &app.admin_password).await;
    let r = app
        .send(
            Method::POST,
            "/api/projects",
            Some(&tok),
            &[("content-type", "application/json")],
            Some(RUNBOOK_PROJECT.as_bytes().to_vec()),
        )
        .await;
    r.expect(201);
    let p = r.json();
    let pid = p["project_id"].as_str().expect("project_id").to_string();
    assert!(is_project_id(&pid), "bad project id {pid}");
    assert_eq!(p["name"], "Pilot");
    assert_eq!(p["owner_email"], "owner@corp.example");
    assert_eq!(p["manager_email"], "mgr@corp.example");
    assert_eq!(p["group"], "platform");
    assert_eq!(p["cost_center"], "CC-100");
    assert_eq!(p["budget_usd"].as_f64(), Some(100.0));
    assert_eq!(p["classification"], "poc");
    assert_eq!(p["lifecycle"], "active");
    assert_eq!(p["killed"], false);
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(&pid[5..9], year, "the id carries the UTC year");

    let r = app
        .send(
            Method::POST,
            &format!("/api/projects/{pid}/keys"),
            Some(&tok),
            &[("content-type", "application/json")],
            Some(br#"{"name":"agent"}"#.to_vec()),
        )
        .await;
    r.expect(201);
    let k: Value = r.json();
    let key = k["key"].as_str().expect("key");
    assert!(!key.is_empty());
    assert_eq!(k["project_id"], pid.as_str());
    assert_eq!(k["name"], "agent");

    // The project reads back, and the registration is audited.
    let r = app.get(&format!("/api/projects/{pid}"), Some(&tok)).await;
    r.expect(200);
    assert_eq!(r.json()["project_id"], pid.as_str());
    let r = app
        .get(&format!("/api/audit?project={pid}"), Some(&tok))
        .await;
    r.expect(200);
    let actions: Vec<String> = r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        actions.contains(&"project.registered".to_string()),
        "{actions:?}"
    );
    assert!(actions.contains(&"key.minted".to_string()), "{actions:?}");

    app.leak_scan(&[]).await;
}

crate::both_engines!(runbook_steps_1_to_5 => runbook_steps);
