//! `GET /api/cost?by=…`: the organisation's committed monthly estimates and
//! estimated spend to date, JSON and CSV, for admins and auditors only;
//! budget changes audited with old and new values; and fifty asks racing
//! into a budget that fits exactly seven take exactly seven.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::db::exec;
use crate::support::governance::armed_never_running;
use crate::support::{Engine, Opts, TestApp};

const TWO_GROUPS: &str = "groups:\n  - { key: platform, display_name: Platform, cost_center: CC-100 }\n  - { key: data, display_name: Data, cost_center: CC-200 }\n";

fn row<'a>(r: &'a Value, key: &str) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == key)
        .unwrap_or_else(|| panic!("no row {key}: {r}"))
}

/// Unarmed, a request is `planned` and commits nothing; an operator
/// statement marks one applied (as a finished run would), stamped when it
/// was asked. On a fake clock 73 hours later it has cost a tenth of its
/// monthly estimate.
async fn rollups(engine: Engine) {
    let app = TestApp::spawn(
        engine,
        Opts::new().yaml(TWO_GROUPS).fake_clock(chrono::Utc::now()),
    )
    .await;
    let admin = app.admin_token().await;
    let project = |name: &str, group: &str, budget: f64| {
        json!({"name": name, "owner_email": "owner@corp.example",
               "manager_email": "mgr@corp.example", "group": group, "budget_usd": budget})
    };
    let a = app
        .register_project(&admin, project("Alpha", "platform", 10.0))
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app
        .register_project(&admin, project("=Beta, the second", "platform", 5.0))
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = app
        .register_project(&admin, project("Gamma", "data", 0.0))
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/projects/{a}/resources"),
            Some(&admin),
            json!({"service": "ecr-repository", "name": "images"}),
        )
        .await;
    r.expect(202);
    let rid = r.json()["request_id"].as_str().unwrap().to_string();
    exec(
        &app.sandbox,
        &format!(
            "UPDATE requests SET state = 'fulfilled', finished_at = created_at WHERE id = '{rid}'"
        ),
    )
    .await;
    exec(
        &app.sandbox,
        &format!("UPDATE resources SET state = 'fulfilled', estimate_cents = 100 WHERE project_id = '{a}'"),
    )
    .await;
    app.clock().advance(Duration::from_secs(73 * 3600));
    // The session idled out over those hours: sign in again.
    let admin = app.admin_token().await;

    let r = app.get("/api/cost?by=group", Some(&admin)).await;
    r.expect(200);
    let r = r.json();
    assert_eq!(r["by"], "group");
    assert_eq!(
        r["spend_to_date"]["estimate"], true,
        "labelled as an estimate"
    );
    let platform = row(&r, "platform");
    assert_eq!(platform["label"], "Platform");
    assert_eq!(platform["projects"], 2);
    assert_eq!(platform["budget_usd"], 15.0);
    assert_eq!(platform["committed_monthly_usd"], 1.0);
    assert_eq!(platform["estimated_spend_to_date_usd"], 0.1, "{platform}");
    assert_eq!(row(&r, "data")["committed_monthly_usd"], 0.0);
    assert_eq!(r["totals"]["projects"], 3);
    assert_eq!(r["totals"]["estimated_spend_to_date_usd"], 0.1);

    for (by, key) in [
        ("cost_center", "CC-100"),
        ("classification", "poc"),
        ("project", a.as_str()),
        ("owner", "owner@corp.example"),
    ] {
        let r = app.get(&format!("/api/cost?by={by}"), Some(&admin)).await;
        r.expect(200);
        let r = r.json();
        assert_eq!(r["by"], by);
        assert_eq!(row(&r, key)["committed_monthly_usd"], 1.0, "{by}: {r}");
    }
    assert_eq!(
        app.get("/api/cost", Some(&admin)).await.json()["by"],
        "project",
        "project when by is absent"
    );

    // CSV, asked for either way; a name that looks like a formula stays text.
    let by_accept = app
        .send(
            Method::GET,
            "/api/cost?by=project",
            Some(&admin),
            &[("accept", "text/csv")],
            None,
        )
        .await;
    by_accept.expect(200);
    assert!(
        by_accept
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/csv")),
        "{:?}",
        by_accept.header("content-type")
    );
    let by_param = app
        .get("/api/cost?by=project&format=csv", Some(&admin))
        .await;
    assert_eq!(by_param.text, by_accept.text);
    let lines: Vec<&str> = by_param.text.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "key,label,projects,budget_usd,committed_monthly_usd,estimated_spend_to_date_usd"
    );
    assert!(
        lines.contains(&format!("{a},Alpha,1,10.00,1.00,0.10").as_str()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&format!("{b},\"'=Beta, the second\",1,5.00,0.00,0.00").as_str()),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l.starts_with(&c)), "{lines:?}");
    let json_anyway = app.get("/api/cost?format=json", Some(&admin)).await;
    assert!(json_anyway.json()["rows"].is_array());

    // Bad parameters name their field; the refusal comes before any work.
    app.get("/api/cost?by=colour", Some(&admin))
        .await
        .expect_invalid("by");
    app.get("/api/cost?format=xml", Some(&admin))
        .await
        .expect_invalid("format");

    // Admins and auditors only.
    app.create_user(
        &admin,
        "aud",
        "aud@corp.example",
        "auditor-password-1",
        "auditor",
    )
    .await;
    app.create_user(
        &admin,
        "owner",
        "owner@corp.example",
        "owner-password-1",
        "member",
    )
    .await;
    let auditor = app.login("aud", "auditor-password-1").await;
    let owner = app.login("owner", "owner-password-1").await;
    app.get("/api/cost?by=group", Some(&auditor))
        .await
        .expect(200);
    app.get("/api/cost?by=group", Some(&owner))
        .await
        .expect_error(403, "forbidden");
    app.get("/api/cost?by=colour", Some(&owner))
        .await
        .expect_error(403, "forbidden");
    let pat = app.mint_pat(&owner, "cost").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.get("/api/cost", Some(&pat))
        .await
        .expect_error(403, "forbidden");
    app.get("/api/cost", None).await.expect(401);
}

/// A budget change is audited with its old and new values.
async fn budget_changes_are_audited(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    let pid = app.register_named(&admin, "Budget").await;
    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&admin),
        json!({"budget_usd": 42.5}),
    )
    .await
    .expect(200);
    let audit = app
        .get(
            &format!("/api/audit?project={pid}&action=project.updated"),
            Some(&admin),
        )
        .await;
    audit.expect(200);
    let events = audit.json()["events"].clone();
    let e = &events.as_array().unwrap()[0];
    assert_eq!(e["data"]["changed"], json!(["budget_usd"]), "{e}");
    assert_eq!(
        e["data"]["budget_usd"],
        json!({"old": 10.0, "new": 42.5}),
        "{e}"
    );
    // A change that leaves the budget alone records no budget values.
    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&admin),
        json!({"description": "no money involved"}),
    )
    .await
    .expect(200);
    let events = app
        .get(
            &format!("/api/audit?project={pid}&action=project.updated"),
            Some(&admin),
        )
        .await
        .json()["events"]
        .clone();
    let latest = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["changed"] == json!(["description"]))
        .unwrap();
    assert!(latest["data"].get("budget_usd").is_none(), "{latest}");
}

/// Fifty `ecr-repository` asks (1.00 USD a month each) at once into a
/// 7.00 USD budget: exactly seven are taken, the rest refused `forbidden`.
/// Armed with a stand-in Terraform (as in `budget_race`), and with no tier
/// auto-approved, so every taken ask waits for a person and keeps its
/// estimate reserved: no run can finish mid-race and free its share.
async fn fifty_asks_into_a_budget_of_seven(engine: Engine) {
    let (app, _terraform) = armed_never_running(engine).await;
    let app = Arc::new(app);
    let tok = app.admin_token().await;
    let p = app
        .register_project(
            &tok,
            json!({"name": "Fifty", "owner_email": "owner@corp.example",
                   "manager_email": "mgr@corp.example", "group": "platform", "budget_usd": 7}),
        )
        .await;
    let pid = p["project_id"].as_str().unwrap().to_string();
    let path = format!("/api/projects/{pid}/resources");
    const ASKS: usize = 50;
    let barrier = Arc::new(tokio::sync::Barrier::new(ASKS));
    let mut tasks = Vec::new();
    for i in 0..ASKS {
        let (app, tok, path, barrier) = (app.clone(), tok.clone(), path.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = app
                .post(
                    &path,
                    Some(&tok),
                    json!({"service": "ecr-repository", "name": format!("race-{i}")}),
                )
                .await;
            (r.status, r.json())
        }));
    }
    let mut taken = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            202 => taken += 1,
            403 => assert_eq!(body["error"]["code"], "forbidden", "{body}"),
            other => panic!("unexpected answer {other}: {body}"),
        }
    }
    assert_eq!(taken, 7, "asks of 1.00 USD taken into a 7.00 USD budget");
    let waiting = app
        .get(
            &format!("/api/requests?project={pid}&state=pending_approval"),
            Some(&tok),
        )
        .await
        .json();
    assert_eq!(
        waiting["requests"].as_array().unwrap().len(),
        7,
        "{waiting}"
    );
    let cost: Value = app
        .get(&format!("/api/projects/{pid}/cost"), Some(&tok))
        .await
        .json();
    assert_eq!(cost["committed_monthly_usd"], 7.0, "{cost}");
    let rollup = app.get("/api/cost?by=project", Some(&tok)).await.json();
    assert_eq!(row(&rollup, &pid)["committed_monthly_usd"], 7.0, "{rollup}");
}

crate::both_engines!(
    cost_rollups => rollups,
    budget_audit => budget_changes_are_audited,
    fifty_concurrent_asks => fifty_asks_into_a_budget_of_seven,
);
