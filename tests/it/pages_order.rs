//! Pagination order is one contract on both engines, ties included: with
//! the store's clock standing still (in-process app, fake clock), every
//! project, request and audit event shares one timestamp, so the order rests
//! entirely on the tie-break. Walking the pages two at a time must return
//! each row once, projects and events by id descending, requests by
//! (created_at, id) descending.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{Engine, Opts, TestApp};

/// Every row of a paged listing, two at a time; `key` picks the row list.
async fn walk(app: &TestApp, tok: &str, path: &str, key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=2&cursor={c}"),
            None => format!("{path}{sep}limit=2"),
        };
        let r = app.get(&url, Some(tok)).await;
        r.expect(200);
        let body = r.json();
        let rows = body[key].as_array().unwrap().clone();
        assert!(rows.len() <= 2, "{body}");
        out.extend(rows);
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
    panic!("{path}: the pages never end");
}

fn strictly_descending<T: PartialOrd + std::fmt::Debug>(v: &[T], what: &str) {
    assert!(
        v.windows(2).all(|w| w[0] > w[1]),
        "{what} not strictly descending: {v:?}"
    );
}

async fn ties(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().fake_clock(chrono::Utc::now())).await;
    let frozen = app.clock().now();
    let admin = app.admin_token().await;
    let mut projects = Vec::new();
    for i in 0..5 {
        projects.push(app.register_named(&admin, &format!("Tie {i}")).await);
    }
    let pid = projects[0].clone();
    for i in 0..7 {
        app.post(
            &format!("/api/projects/{pid}/resources"),
            Some(&admin),
            json!({"service": "demo-token", "name": format!("tok-{i}")}),
        )
        .await
        .expect(202);
    }
    assert_eq!(app.clock().now(), frozen, "the clock stood still");

    // Projects: id descending, each once.
    let rows = walk(&app, &admin, "/api/projects", "projects").await;
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r["project_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 5, "{ids:?}");
    strictly_descending(&ids, "project ids");
    let mut want = projects.clone();
    want.reverse();
    assert_eq!(ids, want, "newest registration first");

    // Requests: one created_at for all, so id descending decides.
    let rows = walk(
        &app,
        &admin,
        &format!("/api/requests?project={pid}"),
        "requests",
    )
    .await;
    let times: HashSet<&str> = rows
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    assert_eq!(times.len(), 1, "every request at one instant: {times:?}");
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r["request_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 7, "{ids:?}");
    strictly_descending(&ids, "request ids");

    // Audit events: integer ids descending, each once.
    let rows = walk(&app, &admin, "/api/audit", "events").await;
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert!(
        ids.len() >= 12,
        "registrations and requests audited: {ids:?}"
    );
    strictly_descending(&ids, "audit ids");
}

crate::both_engines!(pages_break_ties_the_same_way => ties);
