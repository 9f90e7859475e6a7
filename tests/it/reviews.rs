//! Review dates and the overdue sweep, driven by direct ticks on a fake
//! clock; extensions, automatic then by approval. Regressions: an extension
//! approval that changes nothing; the sweep never running on a process that
//! restarts more often than its period.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::support::governance::{People, full_evidence, people};
use crate::support::{Engine, Opts, TestApp};

const DAY: u64 = 86_400;

async fn project(app: &TestApp, tok: &str, pid: &str) -> Value {
    let r = app.get(&format!("/api/projects/{pid}"), Some(tok)).await;
    r.expect(200);
    r.json()
}

fn date(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a date: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// Whole days from `b` to `a` (the stores keep microseconds, the clock
/// nanoseconds).
fn days(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    ((a - b).num_seconds() as f64 / DAY as f64).round() as i64
}

async fn overdue_events(s: &People, pid: &str) -> usize {
    let r = s
        .app
        .get(
            &format!("/api/audit?project={pid}&action=project.review_overdue"),
            Some(&s.admin),
        )
        .await;
    r.expect(200);
    r.json()["events"].as_array().unwrap().len()
}

async fn sweep_and_extensions(engine: Engine) {
    let start = Utc::now();
    let mut s = people(engine, Opts::new().fake_clock(start)).await;
    let pid = s.app.register_named(&s.admin, "Reviewed").await;
    // A PoC is due a PoC window (90 days by default) after registration.
    let due = date(&project(&s.app, &s.olga, &pid).await["review"]["date"]);
    assert_eq!(days(due, start), 90);
    s.app.tick_review_sweep().await;
    assert_eq!(
        project(&s.app, &s.olga, &pid).await["review"]["state"],
        "ok"
    );

    s.app.clock().advance(Duration::from_secs(91 * DAY));
    s.relogin().await;
    s.app.tick_review_sweep().await;
    s.app.tick_review_sweep().await;
    assert_eq!(
        project(&s.app, &s.olga, &pid).await["review"]["state"],
        "overdue"
    );
    // Marked once per transition, however many passes.
    assert_eq!(overdue_events(&s, &pid).await, 1);

    // The first extension is automatic: a window from now, overdue cleared.
    let path = format!("/api/projects/{pid}/extend");
    let r = s
        .app
        .post(&path, Some(&s.olga), json!({"reason": "pilot runs long"}))
        .await;
    r.expect(200);
    assert_eq!(r.json()["outcome"], "applied", "{}", r.text);
    let now = s.app.clock().now();
    let pr = project(&s.app, &s.olga, &pid).await;
    assert_eq!(pr["review"]["state"], "ok");
    assert_eq!(pr["review"]["extensions_used"], 1);
    let first = date(&pr["review"]["date"]);
    assert_eq!(days(first, now), 90);
    s.app.tick_review_sweep().await;
    assert_eq!(
        project(&s.app, &s.olga, &pid).await["review"]["state"],
        "ok"
    );

    // Overdue again; the next extension needs another person.
    s.app.clock().advance(Duration::from_secs(100 * DAY));
    s.relogin().await;
    s.app.tick_review_sweep().await;
    assert_eq!(overdue_events(&s, &pid).await, 2);
    let r = s.app.post(&path, Some(&s.olga), json!({})).await;
    r.expect(200);
    assert_eq!(r.json()["outcome"], "pending_approval", "{}", r.text);
    let gid = r.json()["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(r.json()["request"]["kind"], "review_extension");
    assert_eq!(
        date(&project(&s.app, &s.olga, &pid).await["review"]["date"]),
        first
    );
    // The one inbox lists it.
    let inbox = s
        .app
        .get("/api/requests?state=pending_approval", Some(&s.bea))
        .await;
    assert!(
        inbox.json()["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["request_id"] == gid.as_str() && i["type"] == "governance"),
        "{}",
        inbox.text
    );
    // The approval really moves the date, past now, and clears the mark.
    let a = s
        .app
        .post(
            &format!("/api/requests/{gid}/approve"),
            Some(&s.bea),
            json!({"reason": "fine"}),
        )
        .await;
    a.expect(200);
    let now = s.app.clock().now();
    let pr = project(&s.app, &s.olga, &pid).await;
    let moved = date(&pr["review"]["date"]);
    assert!(moved > now && moved > first, "{pr}");
    assert_eq!(date(&a.json()["review_date_after"]), moved, "{}", a.text);
    assert_eq!(pr["review"]["state"], "ok");
    assert_eq!(pr["review"]["extensions_used"], 2);
}

/// Demotion to PoC starts a new PoC window; promotion takes the tier's.
async fn tier_changes_recompute_the_date(engine: Engine) {
    let start = Utc::now();
    let mut s = people(engine, Opts::new().fake_clock(start)).await;
    let pid = s.app
        .register_project(
            &s.admin,
            json!({"name": "Dated", "owner_email": "owner@corp.example", "manager_email": "mgr@corp.example",
                   "group": "platform", "classification": "light-operational",
                   "evidence": full_evidence()}),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    s.app.clock().advance(Duration::from_secs(10 * DAY));
    s.relogin().await;
    let r = s
        .app
        .post(
            &format!("/api/projects/{pid}/demote"),
            Some(&s.olga),
            json!({"target": "poc", "reason": "paused"}),
        )
        .await;
    r.expect(200);
    let due = date(&r.json()["review"]["date"]);
    assert_eq!(days(due, s.app.clock().now()), 90, "{}", r.text);
}

/// On an operational tier the team's `recurring_review_date` can bring the
/// review forward, never push it back or clear an overdue mark (anyone who
/// edits evidence, an agent's key too, may change it): only an extension
/// moves a review later.
async fn recurring_review_date_moves_the_date(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let pid = s
        .app
        .register_project(
            &s.admin,
            json!({"name": "Recurring", "owner_email": "owner@corp.example", "manager_email": "mgr@corp.example",
                   "group": "platform", "classification": "light-operational",
                   "evidence": full_evidence()}),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let set = |d: &str| json!({"evidence": {"recurring_review_date": d}});
    let path = format!("/api/projects/{pid}");
    s.app
        .patch(&path, Some(&s.olga), set("2001-02-03"))
        .await
        .expect(200);
    s.app.tick_review_sweep().await;
    let pr = project(&s.app, &s.olga, &pid).await;
    assert_eq!(pr["review"]["state"], "overdue", "{pr}");
    assert!(
        pr["review"]["date"]
            .as_str()
            .unwrap()
            .starts_with("2001-02-03")
    );
    // A date far ahead, set with the project's own key, changes nothing.
    let key = s.app.mint_key(&s.admin, &pid, "agent").await["key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = s
        .app
        .tool_call(&key, "update_project", set("2098-07-06"))
        .await;
    assert_ne!(r["isError"], true, "{r}");
    s.app.tick_review_sweep().await;
    let pr = project(&s.app, &s.olga, &pid).await;
    assert_eq!(pr["review"]["state"], "overdue", "{pr}");
    assert!(
        pr["review"]["date"]
            .as_str()
            .unwrap()
            .starts_with("2001-02-03"),
        "{pr}"
    );
}

/// A process that restarts more often than `review.sweep_secs` still
/// sweeps: the first pass comes within a minute of boot.
async fn sweep_runs_soon_after_boot(engine: Engine) {
    let sb = crate::support::Sandbox::new(engine).await;
    let start = Utc::now();
    let yaml = format!(
        "{}review: {{ sweep_secs: 86400 }}\n",
        crate::support::RUNBOOK_YAML
    );
    let opts = || {
        Opts::new()
            .yaml(&yaml)
            .admin_password("the-admin-password-1")
    };
    let mut first = TestApp::spawn_in(&sb, opts().fake_clock(start)).await;
    let admin = first.admin_token().await;
    let pid = first.register_named(&admin, "Restarts").await;
    first.stop().await;
    // Booted again 100 days on: the PoC window has passed.
    let later = start + chrono::Duration::days(100);
    let app = TestApp::spawn_in(&sb, opts().fake_clock(later)).await;
    let admin = app.admin_token().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = project(&app, &admin, &pid).await["review"]["state"].clone();
        if st == "overdue" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no sweep within a minute of boot: review state {st}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

crate::both_engines!(
    review_sweep_and_extensions => sweep_and_extensions,
    review_date_on_tier_change => tier_changes_recompute_the_date,
    recurring_review_date_change => recurring_review_date_moves_the_date,
    sweep_after_frequent_restarts => sweep_runs_soon_after_boot,
);
