//! The registry over HTTP: merge-PATCH, project keys (mint
//! shown once, list without secrets with `last_used_at`, revoke, expiry),
//! the kill switch (a killed project's keys stop working on /mcp), and
//! decommission (needs `confirm`, revokes every key, read-only after).

use serde_json::{Value, json};

use crate::support::{Engine, Opts, TestApp};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"0"}}}"#;

/// The status of an MCP `initialize` with this key (200 = accepted).
async fn mcp_status(app: &TestApp, key: &str) -> u16 {
    app.send(
        reqwest::Method::POST,
        "/mcp",
        Some(key),
        &[("accept", "application/json, text/event-stream")],
        Some(INIT.as_bytes().to_vec()),
    )
    .await
    .status
}

fn key_row<'a>(list: &'a Value, key_id: &Value) -> &'a Value {
    list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == *key_id)
        .expect("key listed")
}

async fn actions(app: &TestApp, tok: &str, pid: &str) -> Vec<String> {
    let r = app
        .get(&format!("/api/audit?project={pid}&limit=500"), Some(tok))
        .await;
    r.expect(200);
    r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn registry(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().process()).await;
    let tok = app.admin_token().await;
    let pid = app.register_named(&tok, "Registry").await;
    let pp = format!("/api/projects/{pid}");

    // PATCH merges: only the given fields change, and the change is audited by name.
    let before = app.get(&pp, Some(&tok)).await.json();
    let r = app
        .patch(
            &pp,
            Some(&tok),
            json!({"description": "the agent platform", "budget_usd": 250}),
        )
        .await;
    r.expect(200);
    let after = r.json();
    assert_eq!(after["description"], "the agent platform");
    assert_eq!(after["budget_usd"].as_f64(), Some(250.0));
    for f in [
        "name",
        "owner_email",
        "manager_email",
        "group",
        "cost_center",
        "classification",
        "created_at",
    ] {
        assert_eq!(before[f], after[f], "PATCH changed {f}");
    }
    let r = app
        .get(
            &format!("/api/audit?project={pid}&action=project.updated"),
            Some(&tok),
        )
        .await;
    let ev = r.json()["events"][0].clone();
    let mut changed: Vec<String> = serde_json::from_value(ev["data"]["changed"].clone()).unwrap();
    changed.sort();
    assert_eq!(changed, ["budget_usd", "description"]);

    // Keys: minted and shown once.
    let k1 = app.mint_key(&tok, &pid, "agent").await;
    let key1 = k1["key"].as_str().unwrap().to_string();
    assert!(key1.starts_with("asg_") && key1.len() >= 40, "{key1}");
    assert!(key1.starts_with(k1["prefix"].as_str().unwrap()));
    assert!(k1["expires_at"].is_null());
    for f in ["key_id", "name", "prefix", "project_id", "created_at"] {
        assert!(!k1[f].is_null(), "mint response lacks {f}");
    }
    let r = app
        .post(
            &format!("{pp}/keys"),
            Some(&tok),
            json!({"name": "ci", "expires_in_days": 30}),
        )
        .await;
    r.expect(201);
    let k2 = r.json();
    let key2 = k2["key"].as_str().unwrap().to_string();
    assert!(k2["expires_at"].is_string());
    assert_ne!(key1, key2);

    // Listed without secrets, with last_used_at.
    let r = app.get(&format!("{pp}/keys"), Some(&tok)).await;
    r.expect(200);
    assert!(
        !r.text.contains(&key1) && !r.text.contains(&key2),
        "key list leaks a key"
    );
    let list = r.json();
    assert_eq!(list["keys"].as_array().unwrap().len(), 2);
    for k in list["keys"].as_array().unwrap() {
        assert!(k.get("key").is_none() && k.get("key_hash").is_none(), "{k}");
        assert!(k.get("last_used_at").is_some(), "no last_used_at: {k}");
        assert!(k["revoked_at"].is_null());
    }

    // A project key is not a human credential.
    app.get("/api/projects", Some(&key1))
        .await
        .expect_error(401, "authentication_required");

    // A key works on /mcp, which stamps last_used_at.
    assert_eq!(
        mcp_status(&app, &key1).await,
        200,
        "a fresh key is refused on /mcp"
    );
    let list = app.get(&format!("{pp}/keys"), Some(&tok)).await.json();
    assert!(
        key_row(&list, &k1["key_id"])["last_used_at"].is_string(),
        "last_used_at not set"
    );

    // Revoke one key.
    let kp = format!("{pp}/keys/{}", k2["key_id"].as_str().unwrap());
    app.delete(&kp, Some(&tok)).await.expect(204);
    app.delete(&kp, Some(&tok))
        .await
        .expect_error(404, "not_found");
    app.delete(&format!("{pp}/keys/no-such-key"), Some(&tok))
        .await
        .expect_error(404, "not_found");
    let list = app.get(&format!("{pp}/keys"), Some(&tok)).await.json();
    assert!(key_row(&list, &k2["key_id"])["revoked_at"].is_string());
    assert_eq!(
        mcp_status(&app, &key2).await,
        401,
        "a revoked key still works"
    );
    assert_eq!(mcp_status(&app, &key1).await, 200);

    // Kill: frozen; keys stop working; no new keys. Unkill reverses it.
    let r = app
        .post(
            &format!("{pp}/kill"),
            Some(&tok),
            json!({"reason": "incident 42"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["killed"], true);
    assert_eq!(r.json()["killed_reason"], "incident 42");
    assert_eq!(app.get(&pp, Some(&tok)).await.json()["killed"], true);
    assert_eq!(
        mcp_status(&app, &key1).await,
        401,
        "a killed project's key still works"
    );
    app.post(&format!("{pp}/keys"), Some(&tok), json!({"name": "more"}))
        .await
        .expect_error(409, "project_frozen");
    app.post(
        &format!("{pp}/kill"),
        Some(&tok),
        json!({"reason": "again"}),
    )
    .await
    .expect(200);
    let r = app
        .post(&format!("{pp}/unkill"), Some(&tok), json!({}))
        .await;
    r.expect(200);
    assert_eq!(r.json()["killed"], false);
    assert_eq!(
        mcp_status(&app, &key1).await,
        200,
        "unkill did not restore the key"
    );
    app.mint_key(&tok, &pid, "after-unkill").await;

    // Decommission needs the reason and `confirm` equal to the id.
    let dp = format!("{pp}/decommission");
    app.post(&dp, Some(&tok), json!({"reason": "done"}))
        .await
        .expect_invalid("confirm");
    app.post(&dp, Some(&tok), json!({"reason": "done", "confirm": "yes"}))
        .await
        .expect_invalid("confirm");
    let r = app
        .post(&dp, Some(&tok), json!({"reason": "done", "confirm": pid}))
        .await;
    r.expect(200);
    assert_eq!(r.json()["lifecycle"], "decommissioned");
    let list = app.get(&format!("{pp}/keys"), Some(&tok)).await.json();
    for k in list["keys"].as_array().unwrap() {
        assert!(
            k["revoked_at"].is_string(),
            "decommission left a key live: {k}"
        );
    }
    assert_eq!(mcp_status(&app, &key1).await, 401);
    app.post(&format!("{pp}/keys"), Some(&tok), json!({"name": "late"}))
        .await
        .expect_error(409, "conflict");
    app.patch(&pp, Some(&tok), json!({"name": "Renamed"}))
        .await
        .expect_error(409, "conflict");
    app.post(&format!("{pp}/kill"), Some(&tok), json!({"reason": "x"}))
        .await
        .expect_error(409, "conflict");

    let got = actions(&app, &tok, &pid).await;
    for a in [
        "project.registered",
        "project.updated",
        "key.minted",
        "key.revoked",
        "project.killed",
        "project.unkilled",
        "project.decommissioned",
    ] {
        assert!(
            got.iter().any(|g| g == a),
            "no {a} in the audit log: {got:?}"
        );
    }
    app.get("/api/projects/proj-1999-0001", Some(&tok))
        .await
        .expect_error(404, "not_found");

    // Filters and pagination.
    let other = app.register_named(&tok, "Another").await;
    let r = app.get("/api/projects?limit=1", Some(&tok)).await.json();
    assert_eq!(r["projects"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["projects"][0]["project_id"],
        other.as_str(),
        "newest first"
    );
    let next = r["next_cursor"].as_str().expect("next_cursor").to_string();
    let r = app
        .get(&format!("/api/projects?limit=1&cursor={next}"), Some(&tok))
        .await
        .json();
    assert_eq!(r["projects"][0]["project_id"], pid.as_str());
    let r = app.get("/api/projects?q=anoth", Some(&tok)).await.json();
    assert_eq!(r["projects"].as_array().unwrap().len(), 1);
    let r = app
        .get(
            "/api/projects?group=platform&classification=poc",
            Some(&tok),
        )
        .await
        .json();
    assert_eq!(r["projects"].as_array().unwrap().len(), 2);

    app.leak_scan(&[]).await;
}

/// `GET /api/audit`: newest first, filters by action, actor and time
/// (compared as times on both engines), cursor pagination.
async fn audit_filters(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let tok = app.admin_token().await;
    let p1 = app.register_named(&tok, "Before").await;
    let p2 = app.register_named(&tok, "After").await;
    let q = |s: &str| {
        let (app, path, tok) = (&app, format!("/api/audit?{s}"), tok.clone());
        async move { app.get(&path, Some(&tok)).await }
    };
    let evs = |v: Value| v["events"].as_array().unwrap().clone();

    let all = evs(q("action=project.registered").await.json());
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["project_id"], p2.as_str(), "newest first");
    // The instant half-way between the two registrations, as recorded (no
    // sleeping to make room: two HTTP round trips are microseconds apart).
    let at = |e: &Value| {
        chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let (first, second) = (at(&all[1]), at(&all[0]));
    assert!(second > first, "{first} {second}");
    let t0 = first + (second - first) / 2;
    let since = t0.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let after = evs(q(&format!("action=project.registered&since={since}"))
        .await
        .json());
    assert_eq!(after.len(), 1, "since={since}: {after:?}");
    assert_eq!(after[0]["project_id"], p2.as_str());
    let before = evs(q(&format!("action=project.registered&until={since}"))
        .await
        .json());
    assert_eq!(before.len(), 1, "until={since}: {before:?}");
    assert_eq!(before[0]["project_id"], p1.as_str());
    // The same instant in another offset selects the same events.
    let shifted = t0
        .with_timezone(&chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
        .replace('+', "%2B");
    let after2 = evs(q(&format!("action=project.registered&since={shifted}"))
        .await
        .json());
    assert_eq!(after2.len(), 1, "since={shifted}: {after2:?}");
    let mine = evs(q("actor=user:admin&limit=500").await.json());
    assert!(mine.len() >= 2 && mine.iter().all(|e| e["actor"] == "user:admin"));
    assert!(evs(q("actor=user:nobody").await.json()).is_empty());

    // Pagination walks every event exactly once.
    let total = evs(q("limit=500").await.json()).len();
    let (mut seen, mut cursor) = (Vec::new(), String::new());
    loop {
        let v = q(&format!("limit=2{cursor}")).await.json();
        seen.extend(
            evs(v.clone())
                .into_iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(seen, sorted, "pages overlap or are out of order");
    assert_eq!(seen.len(), total);
}

crate::both_engines!(
    keys_kill_and_decommission => registry,
    audit_filters_and_pagination => audit_filters,
);
