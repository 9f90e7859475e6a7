//! Disabling a user (REST and CLI) revokes their sessions and PATs for good
//! and lists the project keys they minted, which keep working: keys belong
//! to the project, so agents keep running when a person leaves.

use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::support::{Engine, Opts, RUNBOOK_YAML, TestApp};

const ADMIN_PW: &str = "the-admin-password-1";

/// A member who owns a project, with two sessions, a PAT and project keys
/// (one of them revoked), plus a key an admin minted in the same project.
struct Member {
    id: String,
    session: String,
    pat: String,
    key: Value,
    pid: String,
}

async fn member_with_keys(app: &TestApp, admin: &str) -> Member {
    let pw = "mona-password-123";
    let id = app
        .create_user(admin, "mona", "mona@corp.example", pw, "member")
        .await;
    let pid = app
        .register_project(
            admin,
            json!({"name": "Mona's", "owner_email": "mona@corp.example",
                   "manager_email": "mgr@corp.example", "group": "platform"}),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = app.login("mona", pw).await;
    let pat = app.mint_pat(&session, "mona-pat").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let key = app.mint_key(&session, &pid, "mona-agent").await;
    let revoked = app.mint_key(&session, &pid, "old-agent").await;
    app.delete(
        &format!(
            "/api/projects/{pid}/keys/{}",
            revoked["key_id"].as_str().unwrap()
        ),
        Some(&session),
    )
    .await
    .expect(204);
    app.mint_key(admin, &pid, "admin-agent").await;
    // Who minted each key is listed.
    let keys = app
        .get(&format!("/api/projects/{pid}/keys"), Some(admin))
        .await
        .json();
    let row = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == key["key_id"])
        .cloned()
        .expect("key listed");
    assert_eq!(row["created_by"], "user:mona@corp.example", "{row}");
    assert_eq!(row["created_by_user_id"], id.as_str(), "{row}");
    Member {
        id,
        session,
        pat,
        key,
        pid,
    }
}

/// Mona's credentials are gone for good, and her key still works.
async fn assert_offboarded(app: &TestApp, admin: &str, m: &Member) {
    app.patch(
        &format!("/api/users/{}", m.id),
        Some(admin),
        json!({"active": true}),
    )
    .await
    .expect(200);
    for gone in [&m.session, &m.pat] {
        app.get("/api/auth/me", Some(gone))
            .await
            .expect_error(401, "authentication_required");
    }
    let key = m.key["key"].as_str().unwrap();
    let who = app.tool_call(key, "whoami", json!({})).await;
    assert_eq!(
        who["structuredContent"]["project_id"],
        m.pid.as_str(),
        "{who}"
    );
}

async fn disable_over_rest(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().process().admin_password(ADMIN_PW)).await;
    let admin = app.admin_token().await;
    let m = member_with_keys(&app, &admin).await;
    let r = app
        .patch(
            &format!("/api/users/{}", m.id),
            Some(&admin),
            json!({"active": false}),
        )
        .await;
    r.expect(200);
    let d = r.json()["disabled"].clone();
    assert_eq!(d["sessions_ended"], 1, "{d}");
    assert_eq!(d["tokens_revoked"], 1, "{d}");
    let keys = d["project_keys"].as_array().expect("project_keys");
    assert_eq!(keys.len(), 1, "only Mona's live key: {d}");
    assert_eq!(keys[0]["key_id"], m.key["key_id"], "{d}");
    assert_eq!(keys[0]["project_id"], m.pid.as_str(), "{d}");
    assert!(keys[0].get("key").is_none() && keys[0].get("key_hash").is_none());
    assert_offboarded(&app, &admin, &m).await;
    app.leak_scan(&[ADMIN_PW]).await;
}

async fn disable_from_the_cli(engine: Engine) {
    let sb = crate::support::Sandbox::new(engine).await;
    let opts = Opts::new().process().admin_password(ADMIN_PW);
    let mut app = TestApp::spawn_in(&sb, opts.clone()).await;
    let admin = app.admin_token().await;
    let m = member_with_keys(&app, &admin).await;
    // SQLite allows one process; stop the server for the CLI on both engines.
    app.stop().await;

    let cfg = sb.path("cli.yaml");
    std::fs::write(&cfg, RUNBOOK_YAML).unwrap();
    let run = |user: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_asgard"));
        cmd.args(["users", "disable", user, "--config"])
            .arg(&cfg)
            .current_dir(&sb.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("ASGARD_DATABASE_URL", &sb.db_url)
            .stdin(Stdio::null());
        if let Some(k) = &sb.secret_key {
            cmd.env("ASGARD_SECRET_KEY", k);
        }
        let out = cmd.output().expect("running asgard users disable");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status, text)
    };
    let (st, out) = run("mona@corp.example");
    assert!(st.success(), "users disable failed:\n{out}");
    assert!(
        out.contains("1 sessions ended, 1 personal access tokens revoked"),
        "{out}"
    );
    assert!(out.contains(m.key["key_id"].as_str().unwrap()), "{out}");
    assert_eq!(
        out.matches(&format!("project {} key ", m.pid)).count(),
        1,
        "only Mona's live key is listed:\n{out}"
    );
    // The last admin is protected here too; an unknown user is an error.
    let (st, out) = run("admin");
    assert!(!st.success(), "disabled the last admin:\n{out}");
    let (st, _) = run("nobody");
    assert!(!st.success());

    let app = TestApp::spawn_in(&sb, opts).await;
    let admin = app.admin_token().await;
    let audit = app
        .get(
            "/api/audit?actor=system:cli&action=user.updated",
            Some(&admin),
        )
        .await
        .json();
    // One change, Mona's disable (the refused ones wrote nothing).
    let events = audit["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{audit}");
    assert_eq!(events[0]["target"], m.id.as_str(), "{audit}");
    assert_eq!(events[0]["data"]["active"], false, "{audit}");
    assert_offboarded(&app, &admin, &m).await;
}

crate::both_engines!(
    disable_over_rest_revokes_and_lists_keys => disable_over_rest,
    disable_from_the_cli_revokes_and_lists_keys => disable_from_the_cli,
);
