//! The portfolio metrics as a table: each row a portfolio, then what one
//! metric must say about it (overall, or for one tier).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

use super::Classification::{self, *};
use super::evidence::{self, Evidence};
use super::metrics::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn hours_ago(h: i64) -> DateTime<Utc> {
    now() - Duration::hours(h)
}

fn days_ago(d: i64) -> DateTime<Utc> {
    now() - Duration::days(d)
}

/// A tier change `d` days ago.
fn change(d: i64, from: Classification, to: Classification) -> TierChange {
    TierChange {
        at: days_ago(d),
        from,
        to,
    }
}

/// `review.poc_window_days` in every row.
const POC_WINDOW: u32 = 90;

/// A live project with two distinct people and no evidence.
fn p(id: &str, tier: Classification) -> ProjectRow {
    ProjectRow {
        id: id.into(),
        tier,
        killed: false,
        review_state: "ok".into(),
        review_date: Some(now() + Duration::days(30)),
        owner_email: "owner@corp.example".into(),
        manager_email: "mgr@corp.example".into(),
        evidence: Evidence::new(),
        budget_cents: 0,
        committed_cents: 0,
        created_at: days_ago(10),
        tier_changes: vec![],
    }
}

fn light_evidence() -> Evidence {
    evidence::required_for(WideOperational, &BTreeMap::new())
        .into_iter()
        .map(|f| (f, json!("x")))
        .collect()
}

fn pending(project: &str, h: i64) -> ApprovalRow {
    ApprovalRow {
        project_id: project.into(),
        created_at: hours_ago(h),
        decided_at: None,
    }
}

fn decided(project: &str, asked_h: i64, waited_h: i64) -> ApprovalRow {
    ApprovalRow {
        project_id: project.into(),
        created_at: hours_ago(asked_h),
        decided_at: Some(hours_ago(asked_h) + Duration::hours(waited_h)),
    }
}

struct Case {
    name: &'static str,
    projects: Vec<ProjectRow>,
    approvals: Vec<ApprovalRow>,
    maintainer_min: u32,
    /// `None`: overall; else that tier's metrics.
    tier: Option<Classification>,
    key: &'static str,
    value: Option<f64>,
    offenders: &'static [&'static str],
}

fn with(mut pr: ProjectRow, f: impl FnOnce(&mut ProjectRow)) -> ProjectRow {
    f(&mut pr);
    pr
}

#[test]
fn table() {
    const A: &str = "proj-2026-0001";
    const B: &str = "proj-2026-0002";
    const C: &str = "proj-2026-0003";
    const D: &str = "proj-2026-0004";
    let cases = vec![
        Case {
            name: "projects per tier",
            projects: vec![p(A, Poc), p(B, LightOperational), p(C, Poc)],
            approvals: vec![],
            maintainer_min: 2,
            tier: Some(Poc),
            key: "projects",
            value: Some(2.0),
            offenders: &[],
        },
        Case {
            name: "overdue: marked, or past its date; killed ones do not count",
            projects: vec![
                with(p(A, Poc), |x| x.review_state = "overdue".into()),
                with(p(B, Poc), |x| x.review_date = Some(hours_ago(1))),
                with(p(C, Poc), |x| {
                    x.review_date = Some(hours_ago(1));
                    x.killed = true;
                }),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "overdue_reviews",
            value: Some(2.0),
            offenders: &[A, B],
        },
        Case {
            name: "maintainers: owner and manager the same person is one",
            projects: vec![
                with(p(A, Poc), |x| x.manager_email = "OWNER@corp.example".into()),
                p(B, Poc),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "below_maintainer_min",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "maintainers: a raised minimum counts the maintainers evidence",
            projects: vec![
                p(A, Poc),
                with(p(B, Poc), |x| {
                    x.evidence.insert(
                        "maintainers".into(),
                        json!(["dev@corp.example", "mgr@corp.example"]),
                    );
                }),
            ],
            approvals: vec![],
            maintainer_min: 3,
            tier: None,
            key: "below_maintainer_min",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "missing evidence is for the next tier",
            projects: vec![
                p(A, Poc),
                with(p(B, Poc), |x| x.evidence = light_evidence()),
                with(p(C, LightOperational), |x| x.evidence = light_evidence()),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "missing_evidence",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "pending approvals count requests",
            projects: vec![p(A, Poc), p(B, Poc)],
            approvals: vec![pending(A, 1), pending(A, 2), decided(B, 10, 1)],
            maintainer_min: 2,
            tier: None,
            key: "pending_approvals",
            value: Some(2.0),
            offenders: &[A],
        },
        Case {
            name: "the oldest pending approval, late past 48 hours",
            projects: vec![p(A, Poc), p(B, Poc)],
            approvals: vec![pending(A, 1), pending(B, 50)],
            maintainer_min: 2,
            tier: None,
            key: "oldest_pending_approval_hours",
            value: Some(50.0),
            offenders: &[B],
        },
        Case {
            name: "no pending approval: not measurable",
            projects: vec![p(A, Poc)],
            approvals: vec![decided(A, 10, 1)],
            maintainer_min: 2,
            tier: None,
            key: "oldest_pending_approval_hours",
            value: None,
            offenders: &[],
        },
        Case {
            name: "median latency of decisions, slow past 24 hours",
            projects: vec![p(A, Poc), p(B, Poc)],
            approvals: vec![
                decided(A, 100, 2),
                decided(A, 100, 4),
                decided(B, 100, 30),
                pending(B, 1),
            ],
            maintainer_min: 2,
            tier: None,
            key: "median_approval_latency_hours",
            value: Some(4.0),
            offenders: &[B],
        },
        Case {
            name: "median of an even count is the mean of the middle two",
            projects: vec![p(A, Poc)],
            approvals: vec![decided(A, 100, 2), decided(A, 100, 5)],
            maintainer_min: 2,
            tier: None,
            key: "median_approval_latency_hours",
            value: Some(3.5),
            offenders: &[],
        },
        Case {
            name: "decisions outside the window do not count",
            projects: vec![p(A, Poc)],
            approvals: vec![decided(A, 24 * 200, 5)],
            maintainer_min: 2,
            tier: None,
            key: "median_approval_latency_hours",
            value: None,
            offenders: &[],
        },
        Case {
            name: "latency per tier: only that tier's projects",
            projects: vec![p(A, Poc), p(B, LightOperational)],
            approvals: vec![decided(A, 100, 2), decided(B, 100, 40)],
            maintainer_min: 2,
            tier: Some(LightOperational),
            key: "median_approval_latency_hours",
            value: Some(40.0),
            offenders: &[B],
        },
        Case {
            name: "approvals of a project outside the answer do not count",
            projects: vec![p(A, Poc)],
            approvals: vec![pending(B, 100)],
            maintainer_min: 2,
            tier: None,
            key: "pending_approvals",
            value: Some(0.0),
            offenders: &[],
        },
        Case {
            name: "killed projects",
            projects: vec![with(p(A, Poc), |x| x.killed = true), p(B, Poc)],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "killed_projects",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "committed cost against budgets; over its own budget offends",
            projects: vec![
                with(p(A, Poc), |x| {
                    x.budget_cents = 1_000;
                    x.committed_cents = 1_500;
                }),
                with(p(B, Poc), |x| {
                    x.budget_cents = 10_000;
                    x.committed_cents = 2_000;
                }),
                with(p(C, Poc), |x| x.committed_cents = 500),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "committed_monthly_usd",
            value: Some(40.0),
            offenders: &[A],
        },
        Case {
            name: "support path: an operational project needs a support_contact or an incident_path",
            projects: vec![
                p(A, LightOperational),
                with(p(B, LightOperational), |x| {
                    x.evidence
                        .insert("incident_path".into(), json!("page #ops"));
                }),
                with(p(C, WideOperational), |x| {
                    x.evidence.insert("support_contact".into(), json!("#help"));
                }),
                p(D, Poc),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "no_support_path_operational",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "support path: killed projects do not count",
            projects: vec![with(p(A, CriticalPath), |x| x.killed = true)],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "no_support_path_operational",
            value: Some(0.0),
            offenders: &[],
        },
        Case {
            name: "support path: not measured for the poc tier",
            projects: vec![p(A, Poc)],
            approvals: vec![],
            maintainer_min: 2,
            tier: Some(Poc),
            key: "no_support_path_operational",
            value: None,
            offenders: &[],
        },
        Case {
            name: "understaffed: only wide and critical projects, below the minimum",
            projects: vec![
                with(p(A, WideOperational), |x| {
                    x.manager_email = "owner@corp.example".into()
                }),
                with(p(B, LightOperational), |x| {
                    x.manager_email = "owner@corp.example".into()
                }),
                p(C, CriticalPath),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "understaffed_wide_critical",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "understaffed: the maintainers evidence counts as below_maintainer_min does",
            projects: vec![
                p(A, WideOperational),
                with(p(B, CriticalPath), |x| {
                    x.evidence
                        .insert("maintainers".into(), json!(["DEV@corp.example"]));
                }),
            ],
            approvals: vec![],
            maintainer_min: 3,
            tier: Some(WideOperational),
            key: "understaffed_wide_critical",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "understaffed: not measured for the light tier",
            projects: vec![p(A, LightOperational)],
            approvals: vec![],
            maintainer_min: 5,
            tier: Some(LightOperational),
            key: "understaffed_wide_critical",
            value: None,
            offenders: &[],
        },
        Case {
            name: "stale PoCs: a PoC longer than the window, counted from its latest demotion",
            projects: vec![
                with(p(A, Poc), |x| x.created_at = days_ago(100)),
                with(p(B, Poc), |x| {
                    x.created_at = days_ago(100);
                    x.tier_changes = vec![
                        change(80, Poc, LightOperational),
                        change(10, LightOperational, Poc),
                    ];
                }),
                with(p(C, LightOperational), |x| x.created_at = days_ago(100)),
                with(p(D, Poc), |x| {
                    x.created_at = days_ago(100);
                    x.killed = true;
                }),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "stale_pocs",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "stale PoCs: an overdue review alone does not make a young PoC stale",
            projects: vec![with(p(A, Poc), |x| {
                x.created_at = days_ago(89);
                x.review_state = "overdue".into();
            })],
            approvals: vec![],
            maintainer_min: 2,
            tier: Some(Poc),
            key: "stale_pocs",
            value: Some(0.0),
            offenders: &[],
        },
        Case {
            name: "stale PoCs: not measured for an operational tier",
            projects: vec![with(p(A, WideOperational), |x| {
                x.created_at = days_ago(400)
            })],
            approvals: vec![],
            maintainer_min: 2,
            tier: Some(WideOperational),
            key: "stale_pocs",
            value: None,
            offenders: &[],
        },
        Case {
            name: "unsupported stack: a recorded stack_exception, live projects only",
            projects: vec![
                with(p(A, LightOperational), |x| {
                    x.evidence.insert("stack_exception".into(), json!("COBOL"));
                }),
                p(B, LightOperational),
                with(p(C, Poc), |x| {
                    x.evidence.insert("stack_exception".into(), json!("Perl"));
                    x.killed = true;
                }),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "unsupported_stack",
            value: Some(1.0),
            offenders: &[A],
        },
        Case {
            name: "light cycle: median days as a PoC before reaching light, slow past the window",
            projects: vec![
                with(p(A, LightOperational), |x| {
                    x.created_at = days_ago(40);
                    x.tier_changes = vec![change(10, Poc, LightOperational)];
                }),
                with(p(B, LightOperational), |x| {
                    x.created_at = days_ago(200);
                    x.tier_changes = vec![change(5, Poc, LightOperational)];
                }),
                // Demoted to poc 50 days ago, promoted again 20 days ago.
                with(p(C, LightOperational), |x| {
                    x.created_at = days_ago(300);
                    x.tier_changes = vec![
                        change(250, Poc, LightOperational),
                        change(50, LightOperational, Poc),
                        change(20, Poc, LightOperational),
                    ];
                }),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "light_promotion_cycle_days",
            value: Some(30.0),
            offenders: &[B],
        },
        Case {
            name: "light cycle: registered at light, old promotions and other steps do not count",
            projects: vec![
                with(p(A, LightOperational), |x| x.created_at = days_ago(5)),
                with(p(B, LightOperational), |x| {
                    x.created_at = days_ago(300);
                    x.tier_changes = vec![change(200, Poc, LightOperational)];
                }),
                with(p(C, LightOperational), |x| {
                    x.created_at = days_ago(60);
                    x.tier_changes = vec![
                        change(50, LightOperational, WideOperational),
                        change(40, WideOperational, LightOperational),
                    ];
                }),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: None,
            key: "light_promotion_cycle_days",
            value: None,
            offenders: &[],
        },
        Case {
            name: "light cycle per tier: under the project's current tier",
            projects: vec![
                with(p(A, WideOperational), |x| {
                    x.created_at = days_ago(40);
                    x.tier_changes = vec![
                        change(1, LightOperational, WideOperational),
                        change(10, Poc, LightOperational),
                    ];
                }),
                with(p(B, LightOperational), |x| {
                    x.created_at = days_ago(20);
                    x.tier_changes = vec![change(8, Poc, LightOperational)];
                }),
            ],
            approvals: vec![],
            maintainer_min: 2,
            tier: Some(WideOperational),
            key: "light_promotion_cycle_days",
            value: Some(30.0),
            offenders: &[],
        },
    ];
    let overrides = BTreeMap::new();
    for c in cases {
        let policy = Policy {
            maintainer_min: c.maintainer_min,
            poc_window_days: POC_WINDOW,
            overrides: &overrides,
        };
        let m = compute(
            &c.projects,
            &c.approvals,
            policy,
            MetricsScope::Organisation,
            now(),
        );
        let list = match c.tier {
            None => &m.metrics,
            Some(t) => &m.tiers.iter().find(|x| x.tier == t).unwrap().metrics,
        };
        let got = list.iter().find(|x| x.key == c.key).unwrap();
        assert_eq!(got.value, c.value, "{}", c.name);
        assert_eq!(got.measurable, c.value.is_some(), "{}", c.name);
        assert_eq!(got.offenders, c.offenders, "{}", c.name);
    }
}

#[test]
fn every_metric_in_every_list_in_key_order() {
    let m = compute(
        &[],
        &[],
        Policy {
            maintainer_min: 2,
            poc_window_days: POC_WINDOW,
            overrides: &BTreeMap::new(),
        },
        MetricsScope::Own,
        now(),
    );
    assert_eq!(m.total_projects, 0);
    let keys: Vec<&str> = m.metrics.iter().map(|x| x.key).collect();
    assert_eq!(keys, KEYS);
    assert_eq!(m.tiers.len(), Classification::ALL.len());
    for t in &m.tiers {
        let keys: Vec<&str> = t.metrics.iter().map(|x| x.key).collect();
        assert_eq!(keys, KEYS);
    }
    // With no data the latencies say so; counts of nothing are real zeros.
    assert!(!m.get("median_approval_latency_hours").unwrap().measurable);
    assert!(!m.get("light_promotion_cycle_days").unwrap().measurable);
    assert_eq!(m.get("projects").unwrap().value, Some(0.0));
    assert_eq!(m.get("stale_pocs").unwrap().value, Some(0.0));
}
