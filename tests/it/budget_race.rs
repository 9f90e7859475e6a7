//! Asks racing into one project cannot overshoot its budget: five
//! `request_resource` calls at once for a 1.00 USD/month resource against a
//! 2.50 USD budget take at most two, and the rest are refused `forbidden`
//! (over budget). On Postgres the asks run on separate connections and only
//! the project lock keeps the budget check and the insert together; on
//! SQLite the single writer does.
//!
//! The replica is armed (an unarmed plan commits nothing against the
//! budget), with a stand-in Terraform that only answers `version`, and every
//! request waits for an admin's approval: a waiting request commits its
//! estimate, and no run starts (a failed create would free its share of the
//! budget again, and the count would depend on the worker's timing).

use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::Engine;
use crate::support::governance::armed_never_running;

async fn five_asks_into_a_small_budget(engine: Engine) {
    let (app, _terraform) = armed_never_running(engine).await;
    let app = Arc::new(app);
    let tok = app.admin_token().await;
    let p = app
        .register_project(
            &tok,
            json!({"name": "Budget race", "owner_email": "owner@corp.example",
                   "manager_email": "mgr@corp.example", "group": "platform", "budget_usd": 2.5}),
        )
        .await;
    let pid = p["project_id"].as_str().unwrap().to_string();
    let path = format!("/api/projects/{pid}/resources");
    let barrier = Arc::new(tokio::sync::Barrier::new(5));
    let mut tasks = Vec::new();
    for i in 0..5 {
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
    // Taken in turn, the first two fit and the other three do not.
    assert_eq!(taken, 2, "asks of 1.00 USD taken into a 2.50 USD budget");
    let cost: Value = app
        .get(&format!("/api/projects/{pid}/cost"), Some(&tok))
        .await
        .json();
    let committed = cost["committed_monthly_usd"].as_f64().unwrap();
    assert!(committed <= 2.5, "{cost}");
}

crate::both_engines!(budget_race => five_asks_into_a_small_budget);
