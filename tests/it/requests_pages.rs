//! `GET /api/requests` pages (`?limit=&cursor=`, newest first):
//! walking every page returns each request exactly once, in order, on an
//! unarmed Asgard (requests are recorded as `planned`). A cursor that was
//! not handed out is a 422 naming `cursor`.

use std::collections::HashSet;

use serde_json::json;

use crate::support::{Engine, Opts, TestApp};

async fn pages(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    let pid = app.register_named(&admin, "Paged requests").await;
    let n = 23;
    for i in 0..n {
        app.post(
            &format!("/api/projects/{pid}/resources"),
            Some(&admin),
            json!({"service": "demo-token", "name": format!("tok-{i:02}")}),
        )
        .await
        .expect(202);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/requests?project={pid}&limit=5&cursor={c}"),
            None => format!("/api/requests?project={pid}&limit=5"),
        };
        let r = app.get(&path, Some(&admin)).await;
        r.expect(200);
        let body = r.json();
        let rows = body["requests"].as_array().unwrap().clone();
        assert!(rows.len() <= 5, "{body}");
        seen.extend(rows.iter().map(|x| {
            (
                x["request_id"].as_str().unwrap().to_string(),
                x["created_at"].as_str().unwrap().to_string(),
            )
        }));
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 20, "the pages never end");
    }
    assert_eq!(pages, 5, "23 requests at 5 a page");
    assert_eq!(seen.len(), n, "{seen:?}");
    let ids: HashSet<_> = seen.iter().map(|s| s.0.clone()).collect();
    assert_eq!(ids.len(), n, "a request was served twice");
    let times: Vec<_> = seen.iter().map(|s| s.1.clone()).collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "not newest first");

    // The last one is a well-formed cursor whose id holds a NUL (a 500 on
    // Postgres before the id's shape was checked).
    for bad in [
        "nonsense",
        "bm90IGEgY3Vyc29y",
        "AAAA",
        "MjAyNC0wMS0wMVQwMDowMDowMFp8YQBi",
    ] {
        app.get(
            &format!("/api/requests?project={pid}&cursor={bad}"),
            Some(&admin),
        )
        .await
        .expect_invalid("cursor");
    }
}

crate::both_engines!(requests_paged_by_cursor => pages);
