//! The portfolio-health metrics as a table, run like the other metrics'
//! rows (`metrics_tests::check`).

use serde_json::json;

use super::Classification::*;
use super::metrics_tests::{Case, POC_WINDOW, change, check, days_ago, p, with};

#[test]
fn table() {
    const A: &str = "proj-2026-0001";
    const B: &str = "proj-2026-0002";
    const C: &str = "proj-2026-0003";
    const D: &str = "proj-2026-0004";
    assert_eq!(POC_WINDOW, 90, "the rows below count days against it");
    check(vec![
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
                    x.manager_email = "owner@corp.example".into();
                }),
                with(p(B, LightOperational), |x| {
                    x.manager_email = "owner@corp.example".into();
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
                x.created_at = days_ago(400);
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
    ]);
}
