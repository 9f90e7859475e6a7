//! Promotion and demotion, over REST and MCP, and the approvals inbox that
//! lists governance requests beside provisioning ones. Regressions: no
//! registering straight into wide/critical, no promotion by a hand-made
//! request, no approving one's own, no promotion applied after its evidence
//! was removed, no killed project promoting.

use serde_json::{Value, json};

use crate::support::governance::{
    audit_actions, full_evidence, inbox_ids, light_project, people, promote, tier,
};
use crate::support::{Engine, Opts};

async fn poc_to_light_applies_at_once(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let app = &s.app;
    let pid = app.register_named(&s.admin, "Climb").await;
    let st = app
        .get(&format!("/api/projects/{pid}/promotion"), Some(&s.olga))
        .await;
    st.expect(200);
    assert_eq!(st.json()["next"], "light-operational");
    assert!(!st.json()["missing"].as_array().unwrap().is_empty());
    // Missing evidence: refused, nothing changes.
    promote(app, &s.olga, &pid, json!({}))
        .await
        .expect_error(409, "conflict");
    // More than one step: refused on `target`.
    promote(app, &s.olga, &pid, json!({"target": "wide-operational"}))
        .await
        .expect_invalid("target");
    assert_eq!(tier(app, &s.olga, &pid).await, "poc");
    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&s.olga),
        json!({"evidence": full_evidence()}),
    )
    .await
    .expect(200);
    let before = app
        .get(&format!("/api/projects/{pid}"), Some(&s.olga))
        .await
        .json()["review"]["date"]
        .clone();
    assert!(before.is_string(), "a PoC has a review date");
    let r = promote(app, &s.olga, &pid, json!({"target": "light-operational"})).await;
    r.expect(200);
    assert_eq!(r.json()["outcome"], "applied", "{}", r.text);
    assert_eq!(r.json()["request"], Value::Null);
    assert_eq!(tier(app, &s.olga, &pid).await, "light-operational");
    // A promotion brings a review forward, never back: the PoC's date
    // stands (not the team's 2099, not a fresh year of the new tier).
    let pr = app
        .get(&format!("/api/projects/{pid}"), Some(&s.olga))
        .await;
    assert_eq!(pr.json()["review"]["date"], before, "{}", pr.text);
    assert_eq!(
        audit_actions(app, &s.admin, &pid, "project.promoted").await,
        1
    );
}

async fn wider_steps_wait_for_another_admin(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let app = &s.app;
    let pid = light_project(&s, "Wider").await;
    let r = promote(
        app,
        &s.olga,
        &pid,
        json!({"target": "wide-operational", "reason": "more teams"}),
    )
    .await;
    r.expect(200);
    assert_eq!(r.json()["outcome"], "pending_approval", "{}", r.text);
    let gid = r.json()["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(gid.starts_with("gov-"), "{gid}");
    assert_eq!(tier(app, &s.olga, &pid).await, "light-operational");
    // One pending promotion at a time.
    promote(app, &s.olga, &pid, json!({}))
        .await
        .expect_error(409, "conflict");
    // It counts as a pending approval in the portfolio metrics, as a
    // provisioning request would (one approval mechanism).
    let m = app.get("/api/governance/metrics", Some(&s.admin)).await;
    m.expect(200);
    let pending = m.json()["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "pending_approvals")
        .cloned()
        .unwrap();
    assert_eq!(pending["value"], 1.0, "{pending}");
    assert_eq!(pending["offenders"], json!([pid]), "{pending}");
    // The one inbox lists it, typed.
    assert!(
        inbox_ids(app, &s.bea)
            .await
            .contains(&("governance".to_string(), gid.clone()))
    );
    // A member decides nothing; the approver is the credential's.
    app.post(
        &format!("/api/requests/{gid}/approve"),
        Some(&s.olga),
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    app.post(
        &format!("/api/requests/{gid}/approve"),
        Some(&s.bea),
        json!({"decided_by": "user:admin"}),
    )
    .await
    .expect_invalid("decided_by");
    let a = app
        .post(
            &format!("/api/requests/{gid}/approve"),
            Some(&s.bea),
            json!({"reason": "reviewed"}),
        )
        .await;
    a.expect(200);
    assert_eq!(a.json()["state"], "approved", "{}", a.text);
    assert_eq!(a.json()["decided_by"], "user:bea@corp.example");
    assert_eq!(tier(app, &s.olga, &pid).await, "wide-operational");
    assert!(
        !inbox_ids(app, &s.bea)
            .await
            .iter()
            .any(|(_, id)| *id == gid)
    );
    // Deciding it again changes nothing.
    app.post(
        &format!("/api/requests/{gid}/approve"),
        Some(&s.admin),
        json!({}),
    )
    .await
    .expect_error(409, "conflict");
    let g = app
        .get(&format!("/api/requests/{gid}"), Some(&s.olga))
        .await;
    g.expect(200);
    assert_eq!(g.json()["state"], "approved");
    // critical-path: approval again, and a rejection needs a reason.
    let r = promote(app, &s.olga, &pid, json!({})).await;
    r.expect(200);
    let gid = r.json()["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/api/requests/{gid}/reject"),
        Some(&s.bea),
        json!({}),
    )
    .await
    .expect_invalid("reason");
    let j = app
        .post(
            &format!("/api/requests/{gid}/reject"),
            Some(&s.bea),
            json!({"reason": "not yet"}),
        )
        .await;
    j.expect(200);
    assert_eq!(j.json()["state"], "rejected");
    assert_eq!(tier(app, &s.olga, &pid).await, "wide-operational");
    assert_eq!(
        audit_actions(app, &s.admin, &pid, "project.promoted").await,
        1
    );
    assert_eq!(
        audit_actions(app, &s.admin, &pid, "request.rejected").await,
        1
    );
}

async fn own_promotion_cannot_be_approved(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let app = &s.app;
    let pid = light_project(&s, "Mine").await;
    let r = promote(app, &s.bea, &pid, json!({"target": "wide-operational"})).await;
    r.expect(200);
    let gid = r.json()["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/api/requests/{gid}/approve"),
        Some(&s.bea),
        json!({}),
    )
    .await
    .expect_error(403, "forbidden");
    assert_eq!(tier(app, &s.admin, &pid).await, "light-operational");
    app.post(
        &format!("/api/requests/{gid}/approve"),
        Some(&s.admin),
        json!({}),
    )
    .await
    .expect(200);
    assert_eq!(tier(app, &s.admin, &pid).await, "wide-operational");
}

async fn evidence_removed_stops_the_approval(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let app = &s.app;
    let pid = light_project(&s, "Removed").await;
    let r = promote(app, &s.olga, &pid, json!({})).await;
    r.expect(200);
    let gid = r.json()["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&s.olga),
        json!({"evidence": {"incident_path": null}}),
    )
    .await
    .expect(200);
    app.post(
        &format!("/api/requests/{gid}/approve"),
        Some(&s.bea),
        json!({}),
    )
    .await
    .expect_error(409, "conflict");
    assert_eq!(tier(app, &s.olga, &pid).await, "light-operational");
    let g = app.get(&format!("/api/requests/{gid}"), Some(&s.bea)).await;
    assert_eq!(g.json()["state"], "pending_approval");
}

async fn killed_projects_do_not_promote(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let app = &s.app;
    let pid = light_project(&s, "Frozen").await;
    let r = promote(app, &s.olga, &pid, json!({})).await;
    r.expect(200);
    let gid = r.json()["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/api/projects/{pid}/kill"),
        Some(&s.admin),
        json!({"reason": "incident"}),
    )
    .await
    .expect(200);
    let code = |r: &crate::support::Resp| {
        r.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let again = promote(app, &s.admin, &pid, json!({})).await;
    assert_eq!(code(&again), "project_frozen", "{}", again.text);
    let ok = app
        .post(
            &format!("/api/requests/{gid}/approve"),
            Some(&s.bea),
            json!({}),
        )
        .await;
    assert_eq!(code(&ok), "project_frozen", "{}", ok.text);
    assert_eq!(tier(app, &s.admin, &pid).await, "light-operational");
}

async fn no_shortcuts_to_a_higher_tier(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let app = &s.app;
    // Registering straight into wide or critical, even as an admin with
    // every piece of evidence.
    for t in ["wide-operational", "critical-path"] {
        app.post(
            "/api/projects",
            Some(&s.admin),
            json!({"name": "Skip", "owner_email": "owner@corp.example", "manager_email": "mgr@corp.example",
                   "group": "platform", "classification": t, "evidence": full_evidence()}),
        )
        .await
        .expect_invalid("classification");
    }
    // A stack exception needs an admin at light-operational, by
    // registration as by promotion.
    let mut ev = full_evidence();
    ev.insert("stack_exception".into(), json!("runs on a mainframe"));
    app.post(
        "/api/projects",
        Some(&s.olga),
        json!({"name": "Odd", "owner_email": "owner@corp.example", "manager_email": "mgr@corp.example",
               "group": "platform", "classification": "light-operational", "evidence": ev}),
    )
    .await
    .expect_invalid("classification");
    let pid = light_project(&s, "Shortcut").await;
    // A hand-made request: no route creates one, a made-up id decides
    // nothing, a body cannot carry a decision, a patch cannot set the tier.
    app.post(
        "/api/requests",
        Some(&s.olga),
        json!({"kind": "promotion", "project_id": pid, "to_tier": "wide-operational", "state": "approved"}),
    )
    .await
    .expect(405);
    app.post(
        "/api/requests/gov-00000000000000000000000000000000/approve",
        Some(&s.bea),
        json!({}),
    )
    .await
    .expect_error(404, "not_found");
    promote(
        app,
        &s.olga,
        &pid,
        json!({"target": "wide-operational", "state": "approved"}),
    )
    .await
    .expect_invalid("state");
    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&s.admin),
        json!({"classification": "critical-path"}),
    )
    .await
    .expect_invalid("classification");
    assert_eq!(tier(app, &s.admin, &pid).await, "light-operational");
}

async fn demotion_needs_a_reason(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let app = &s.app;
    let pid = light_project(&s, "Down").await;
    let path = format!("/api/projects/{pid}/demote");
    app.post(&path, Some(&s.olga), json!({"target": "poc"}))
        .await
        .expect_invalid("reason");
    app.post(
        &path,
        Some(&s.olga),
        json!({"target": "wide-operational", "reason": "x"}),
    )
    .await
    .expect_invalid("target");
    // Someone without authority over the project does not even see it.
    app.create_user(
        &s.admin,
        "max",
        "max@corp.example",
        "max-password-123",
        "member",
    )
    .await;
    let max = app.login("max", "max-password-123").await;
    app.post(
        &path,
        Some(&max),
        json!({"target": "poc", "reason": "retiring"}),
    )
    .await
    .expect_error(404, "not_found");
    // A promotion waiting when the project is demoted is closed with it.
    let asked = promote(
        app,
        &s.olga,
        &pid,
        json!({"target": "wide-operational", "reason": "more teams"}),
    )
    .await;
    asked.expect(200);
    let gid = asked.json()["request"]["request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &path,
            Some(&s.olga),
            json!({"target": "poc", "reason": "back to a trial"}),
        )
        .await;
    r.expect(200);
    let g = app
        .get(&format!("/api/requests/{gid}"), Some(&s.admin))
        .await;
    assert_eq!(g.json()["state"], "rejected", "{}", g.text);
    assert_eq!(r.json()["classification"], "poc", "{}", r.text);
    assert_eq!(r.json()["review"]["state"], "ok");
    assert_eq!(
        audit_actions(app, &s.admin, &pid, "project.demoted").await,
        1
    );
}

async fn request_promotion_over_mcp(engine: Engine) {
    let s = people(engine, Opts::new()).await;
    let app = &s.app;
    let pid = app.register_named(&s.admin, "Agent").await;
    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&s.olga),
        json!({"evidence": full_evidence()}),
    )
    .await
    .expect(200);
    let pat = app.mint_pat(&s.olga, "agent").await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .tool_call(
            &pat,
            "request_promotion",
            json!({"project_id": pid, "target": "critical-path"}),
        )
        .await;
    assert_eq!(r["isError"], true, "{r}");
    let r = app
        .tool_call(&pat, "request_promotion", json!({"project_id": pid}))
        .await;
    assert_ne!(r["isError"], true, "{r}");
    assert_eq!(r["structuredContent"]["outcome"], "applied", "{r}");
    let r = app
        .tool_call(&pat, "request_promotion", json!({"project_id": pid}))
        .await;
    assert_eq!(r["structuredContent"]["outcome"], "pending_approval", "{r}");
    let r = app
        .tool_call(&pat, "list_requests", json!({"project_id": pid}))
        .await;
    assert_eq!(
        r["structuredContent"]["requests"][0]["type"], "governance",
        "{r}"
    );
    let st = app
        .tool_call(&pat, "promotion_status", json!({"project_id": pid}))
        .await;
    assert_eq!(
        st["structuredContent"]["current"], "light-operational",
        "{st}"
    );
}

crate::both_engines!(
    poc_to_light_applies => poc_to_light_applies_at_once,
    wider_steps_need_another_admin => wider_steps_wait_for_another_admin,
    approving_ones_own_promotion => own_promotion_cannot_be_approved,
    promotion_after_evidence_removed => evidence_removed_stops_the_approval,
    killed_project_promoting => killed_projects_do_not_promote,
    hand_made_promotions => no_shortcuts_to_a_higher_tier,
    demotion => demotion_needs_a_reason,
    mcp_request_promotion => request_promotion_over_mcp,
);
