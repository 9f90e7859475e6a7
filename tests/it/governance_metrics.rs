//! `GET /api/governance/metrics`, MCP `governance_metrics` and their
//! `/metrics` gauges: the runbook's `asgard.yaml` with a governance override
//! reflects in the answer; each caller sees its scope; pending approvals,
//! their age and the approval latency follow real requests on a fake clock;
//! every key the specification requires is present, and stale PoCs, the
//! PoC-to-light cycle and the support path follow a real promotion.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::db::exec;
use crate::support::governance::full_evidence;
use crate::support::{Engine, Opts, RUNBOOK_PROJECT, RUNBOOK_YAML, TestApp};

/// The overall metric `key` of an answer.
fn metric<'a>(m: &'a Value, key: &str) -> &'a Value {
    m["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == key)
        .unwrap_or_else(|| panic!("no metric {key}: {m}"))
}

/// `key` of tier `tier`.
fn tier_metric<'a>(m: &'a Value, tier: &str, key: &str) -> &'a Value {
    let t = m["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tier"] == tier)
        .unwrap();
    t["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == key)
        .unwrap()
}

fn offenders(m: &Value) -> Vec<String> {
    m["offenders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The runbook's config with `governance.maintainer_min: 3`: the runbook's
/// project (an owner and a manager, two people) is below it until a third
/// maintainer is on record; the gauge on `/metrics` follows.
async fn maintainer_min_from_the_config(engine: Engine) {
    let yaml = format!("{RUNBOOK_YAML}governance: {{ maintainer_min: 3 }}\n");
    let app = TestApp::spawn(engine, Opts::new().yaml(&yaml)).await;
    let admin = app.admin_token().await;
    let p = app
        .register_project(&admin, serde_json::from_str(RUNBOOK_PROJECT).unwrap())
        .await;
    let pid = p["project_id"].as_str().unwrap().to_string();

    let m = app.get("/api/governance/metrics", Some(&admin)).await;
    m.expect(200);
    let m = m.json();
    assert_eq!(m["maintainer_min"], 3, "{m}");
    assert_eq!(m["scope"], "organisation");
    assert_eq!(m["total_projects"], 1);
    let below = metric(&m, "below_maintainer_min");
    assert_eq!(below["value"], 1.0, "{below}");
    assert_eq!(offenders(below), [pid.as_str()]);
    assert_eq!(
        offenders(tier_metric(&m, "poc", "below_maintainer_min")),
        [pid.as_str()]
    );
    let text = app.get("/metrics", None).await.text;
    assert!(
        text.contains("asgard_governance_below_maintainer_min{tier=\"all\"} 1.0"),
        "{text}"
    );
    assert!(
        text.contains("asgard_governance_projects{tier=\"poc\"} 1.0"),
        "{text}"
    );

    app.patch(
        &format!("/api/projects/{pid}"),
        Some(&admin),
        json!({"evidence": {"maintainers": ["dev@corp.example"]}}),
    )
    .await
    .expect(200);
    let m = app
        .get("/api/governance/metrics", Some(&admin))
        .await
        .json();
    let below = metric(&m, "below_maintainer_min");
    assert_eq!(below["value"], 0.0, "{below}");
    assert!(offenders(below).is_empty());
    let text = app.get("/metrics", None).await.text;
    assert!(
        text.contains("asgard_governance_below_maintainer_min{tier=\"all\"} 0.0"),
        "{text}"
    );
}

/// Admins and auditors see every project; a member the projects they own
/// or manage; a project key its own project. MCP answers as REST does.
async fn each_caller_sees_its_scope(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    let mine = app
        .register_project(
            &admin,
            json!({"name": "Mine", "owner_email": "member@corp.example",
                   "manager_email": "mgr@corp.example", "group": "platform"}),
        )
        .await["project_id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.register_named(&admin, "Other").await;
    app.create_user(
        &admin,
        "member",
        "member@corp.example",
        "member-password-1",
        "member",
    )
    .await;
    app.create_user(
        &admin,
        "aud",
        "aud@corp.example",
        "auditor-password-1",
        "auditor",
    )
    .await;
    let member = app.login("member", "member-password-1").await;
    let auditor = app.login("aud", "auditor-password-1").await;
    let key = app.mint_key(&admin, &other, "agent").await["key"]
        .as_str()
        .unwrap()
        .to_string();
    // MCP takes keys and personal access tokens, not sessions.
    let pat = |t: Value| t["token"].as_str().unwrap().to_string();
    let admin_pat = pat(app.mint_pat(&admin, "metrics").await);
    let auditor_pat = pat(app.mint_pat(&auditor, "metrics").await);
    let member_pat = pat(app.mint_pat(&member, "metrics").await);

    // (REST credential, MCP credential, scope, total projects, the project
    // it must list)
    let cases = [
        (&admin, &admin_pat, "organisation", 2, &other),
        (&auditor, &auditor_pat, "organisation", 2, &mine),
        (&member, &member_pat, "own", 1, &mine),
        (&key, &key, "own", 1, &other),
    ];
    for (cred, mcp_cred, scope, total, listed) in cases {
        // A project key answers over MCP only (REST takes people).
        let m = if cred == &key {
            app.tool_call(cred, "governance_metrics", json!({})).await["structuredContent"].clone()
        } else {
            let m = app.get("/api/governance/metrics", Some(cred)).await;
            m.expect(200);
            m.json()
        };
        assert_eq!(m["scope"], scope, "{m}");
        assert_eq!(m["total_projects"], total, "{scope}: {m}");
        assert_eq!(metric(&m, "projects")["value"], f64::from(total));
        // Missing evidence names every project in scope (none has any).
        let missing = offenders(metric(&m, "missing_evidence"));
        assert!(missing.contains(listed), "{scope}: {missing:?}");
        assert_eq!(missing.len(), total as usize, "{scope}: {missing:?}");

        let r = app
            .tool_call(mcp_cred, "governance_metrics", json!({}))
            .await;
        assert_eq!(r["isError"], false, "{r}");
        let mut mcp = r["structuredContent"].clone();
        let mut rest = m.clone();
        mcp["as_of"] = Value::Null;
        rest["as_of"] = Value::Null;
        assert_eq!(mcp, rest, "{scope}: MCP answers as REST");
    }
    // Unknown arguments are refused on the field's door.
    let r = app
        .tool_call(
            &admin_pat,
            "governance_metrics",
            json!({"project_id": mine}),
        )
        .await;
    assert_eq!(r["isError"], true, "{r}");
    app.get("/api/governance/metrics", None).await.expect(401);
}

/// A request that waits for a person counts as pending, with its age, until
/// another admin decides it; the decision's latency is then the median.
/// Unarmed, the request is `planned`; an operator statement puts it in
/// `pending_approval`, as an armed gate would.
async fn approvals_pending_and_latency(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().fake_clock(chrono::Utc::now())).await;
    let admin = app.admin_token().await;
    let pid = app.register_named(&admin, "Approvals").await;
    let m = app
        .get("/api/governance/metrics", Some(&admin))
        .await
        .json();
    for key in [
        "oldest_pending_approval_hours",
        "median_approval_latency_hours",
    ] {
        let x = metric(&m, key);
        assert_eq!(x["measurable"], false, "{x}");
        assert_eq!(x["value"], Value::Null, "never a made-up 0: {x}");
    }
    let r = app
        .post(
            &format!("/api/projects/{pid}/resources"),
            Some(&admin),
            json!({"service": "ecr-repository", "name": "images"}),
        )
        .await;
    r.expect(202);
    let rid = r.json()["request_id"].as_str().unwrap().to_string();
    exec(
        &app.sandbox,
        &format!("UPDATE requests SET state = 'pending_approval', needs_approval = TRUE WHERE id = '{rid}'"),
    )
    .await;
    exec(
        &app.sandbox,
        &format!("UPDATE resources SET state = 'pending_approval' WHERE project_id = '{pid}'"),
    )
    .await;
    app.clock().advance(Duration::from_secs(50 * 3600));
    // The session idled out over those hours: sign in again.
    let admin = app.admin_token().await;

    let m = app
        .get("/api/governance/metrics", Some(&admin))
        .await
        .json();
    assert_eq!(metric(&m, "pending_approvals")["value"], 1.0, "{m}");
    let oldest = metric(&m, "oldest_pending_approval_hours");
    assert_eq!(oldest["value"], 50.0, "{oldest}");
    assert_eq!(offenders(oldest), [pid.as_str()], "late past 48 hours");
    assert_eq!(tier_metric(&m, "poc", "pending_approvals")["value"], 1.0);
    assert_eq!(
        tier_metric(&m, "light-operational", "pending_approvals")["value"],
        0.0
    );

    app.create_user(
        &admin,
        "second",
        "second@corp.example",
        "second-password-1",
        "admin",
    )
    .await;
    let second = app.login("second", "second-password-1").await;
    app.post(
        &format!("/api/requests/{rid}/approve"),
        Some(&second),
        json!({"reason": "fine"}),
    )
    .await
    .expect(200);
    let m = app
        .get("/api/governance/metrics", Some(&admin))
        .await
        .json();
    assert_eq!(metric(&m, "pending_approvals")["value"], 0.0, "{m}");
    assert_eq!(
        metric(&m, "oldest_pending_approval_hours")["measurable"],
        false
    );
    let latency = metric(&m, "median_approval_latency_hours");
    assert_eq!(latency["measurable"], true, "{latency}");
    assert_eq!(latency["value"], 50.0, "{latency}");
    assert_eq!(offenders(latency), [pid.as_str()], "slower than 24 hours");
}

/// The metric keys the specification requires at least.
const SPEC_KEYS: [&str; 6] = [
    "no_support_path_operational",
    "understaffed_wide_critical",
    "stale_pocs",
    "overdue_reviews",
    "unsupported_stack",
    "light_promotion_cycle_days",
];

const DAY: u64 = 86_400;

/// Every key the specification requires, overall and per tier. Then, on a
/// fake clock: a PoC promoted to light-operational after 10 days makes the
/// cycle 10 days; a PoC left for 91 days (window 90) is stale; the promoted
/// project without its support contact and incident path has no support
/// path. The `/metrics` gauges follow.
async fn spec_keys_stale_pocs_and_the_light_cycle(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().fake_clock(chrono::Utc::now())).await;
    let admin = app.admin_token().await;
    let climbs = app.register_named(&admin, "Climbs").await;
    let lingers = app.register_named(&admin, "Lingers").await;

    let m = app
        .get("/api/governance/metrics", Some(&admin))
        .await
        .json();
    let tiers = m["tiers"].as_array().unwrap();
    assert_eq!(tiers.len(), 4, "{m}");
    for key in SPEC_KEYS {
        metric(&m, key);
        for t in tiers {
            tier_metric(&m, t["tier"].as_str().unwrap(), key);
        }
    }
    let cycle = metric(&m, "light_promotion_cycle_days");
    assert_eq!(cycle["measurable"], false, "{cycle}");
    assert_eq!(cycle["value"], Value::Null, "never a made-up 0: {cycle}");
    assert_eq!(metric(&m, "stale_pocs")["value"], 0.0);

    app.patch(
        &format!("/api/projects/{climbs}"),
        Some(&admin),
        json!({"evidence": full_evidence()}),
    )
    .await
    .expect(200);
    app.clock().advance(Duration::from_secs(10 * DAY));
    let admin = app.admin_token().await;
    let r = app
        .post(
            &format!("/api/projects/{climbs}/promotion"),
            Some(&admin),
            json!({"target": "light-operational"}),
        )
        .await;
    r.expect(200);
    assert_eq!(r.json()["outcome"], "applied", "{}", r.text);
    app.clock().advance(Duration::from_secs(81 * DAY));
    let admin = app.admin_token().await;

    let m = app
        .get("/api/governance/metrics", Some(&admin))
        .await
        .json();
    let cycle = metric(&m, "light_promotion_cycle_days");
    assert_eq!(cycle["measurable"], true, "{cycle}");
    assert_eq!(cycle["value"], 10.0, "{cycle}");
    assert!(offenders(cycle).is_empty(), "within the PoC window");
    assert_eq!(
        tier_metric(&m, "light-operational", "light_promotion_cycle_days")["value"],
        10.0
    );
    let stale = metric(&m, "stale_pocs");
    assert_eq!(offenders(stale), [lingers.as_str()], "{stale}");
    assert_eq!(
        tier_metric(&m, "wide-operational", "stale_pocs")["measurable"],
        false
    );
    assert_eq!(metric(&m, "no_support_path_operational")["value"], 0.0);
    let text = app.get("/metrics", None).await.text;
    for line in [
        "asgard_governance_light_promotion_cycle_days{tier=\"all\"} 10.0",
        "asgard_governance_stale_pocs{tier=\"all\"} 1.0",
        "asgard_governance_no_support_path_operational{tier=\"all\"} 0.0",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }

    app.patch(
        &format!("/api/projects/{climbs}"),
        Some(&admin),
        json!({"evidence": {"support_contact": null, "incident_path": null}}),
    )
    .await
    .expect(200);
    let m = app
        .get("/api/governance/metrics", Some(&admin))
        .await
        .json();
    let none = metric(&m, "no_support_path_operational");
    assert_eq!(offenders(none), [climbs.as_str()], "{none}");
    assert_eq!(
        offenders(tier_metric(
            &m,
            "light-operational",
            "no_support_path_operational"
        )),
        [climbs.as_str()]
    );
}

crate::both_engines!(
    maintainer_min_reflects => maintainer_min_from_the_config,
    scopes => each_caller_sees_its_scope,
    approvals => approvals_pending_and_latency,
    spec_keys => spec_keys_stale_pocs_and_the_light_cycle,
);
