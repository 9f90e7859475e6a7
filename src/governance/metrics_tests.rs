//! The portfolio metrics as a table: each row a portfolio, then what one
//! metric must say about it (overall, or for one tier).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

use super::Classification::{self, *};
use super::evidence::{self, Evidence};
use super::metrics::*;

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn hours_ago(h: i64) -> DateTime<Utc> {
    now() - Duration::hours(h)
}

pub(super) fn days_ago(d: i64) -> DateTime<Utc> {
    now() - Duration::days(d)
}

/// A tier change `d` days ago.
pub(super) fn change(d: i64, from: Classification, to: Classification) -> TierChange {
    TierChange {
        at: days_ago(d),
        from,
        to,
    }
}

/// `review.poc_window_days` in every row.
pub(super) const POC_WINDOW: u32 = 90;

/// A live project with two distinct people and no evidence.
pub(super) fn p(id: &str, tier: Classification) -> ProjectRow {
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

pub(super) struct Case {
    pub(super) name: &'static str,
    pub(super) projects: Vec<ProjectRow>,
    pub(super) approvals: Vec<ApprovalRow>,
    pub(super) maintainer_min: u32,
    /// `None`: overall; else that tier's metrics.
    pub(super) tier: Option<Classification>,
    pub(super) key: &'static str,
    pub(super) value: Option<f64>,
    pub(super) offenders: &'static [&'static str],
}

pub(super) fn with(mut pr: ProjectRow, f: impl FnOnce(&mut ProjectRow)) -> ProjectRow {
    f(&mut pr);
    pr
}

#[test]
fn table() {
    const A: &str = "proj-2026-0001";
    const B: &str = "proj-2026-0002";
    const C: &str = "proj-2026-0003";
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
    ];
    check(cases);
}

/// Runs each row: the metric `key` (overall or of `tier`) must have the
/// row's value, measurability and offenders.
pub(super) fn check(cases: Vec<Case>) {
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
