//! The admission rule as a table, and the approval rule per tier.

use super::*;
use crate::catalog::Catalog;
use crate::governance::Classification;
use crate::registry::Lifecycle;
use chrono::Utc;

fn project(lifecycle: Lifecycle, killed: bool, tier: Classification) -> Project {
    let now = Utc::now();
    Project {
        id: "proj-2026-0001".into(),
        name: "Pilot".into(),
        description: None,
        owner_email: "owner@corp.example".into(),
        manager_email: "mgr@corp.example".into(),
        grp: Some("platform".into()),
        cost_center: None,
        classification: tier,
        data_class: "internal".into(),
        budget_cents: 10_000,
        lifecycle,
        killed,
        killed_reason: None,
        review_date: None,
        review_state: "none".into(),
        extensions_used: 0,
        evidence: "{}".into(),
        created_by: "admin".into(),
        created_at: now,
        updated_at: now,
    }
}

fn resource(state: ResourceState, armed: bool) -> Resource {
    let now = Utc::now();
    Resource {
        id: "r".into(),
        project_id: "proj-2026-0001".into(),
        service: "demo-token".into(),
        name: "tok".into(),
        spec: "{}".into(),
        state,
        armed,
        cloud: "none".into(),
        account: None,
        outputs: "{}".into(),
        estimate_cents: 0,
        suspended: false,
        last_error: None,
        created_by: "admin".into(),
        created_at: now,
        updated_at: now,
        pending: None,
    }
}

/// demo-token (auto-approvable, every tier) narrowed to `min..=max`.
fn service(auto: bool, min: Classification, max: Classification) -> Manifest {
    let mut m = Catalog::load(None)
        .unwrap()
        .get("demo-token")
        .unwrap()
        .clone();
    m.auto_approvable = auto;
    m.classification_min = min;
    m.classification_max = max;
    m
}

/// One row of the table: what differs from a plain ask (live PoC
/// project, service open to every tier and auto-approvable, a new
/// resource, 1 USD into 100 USD of budget of which 20 are committed).
#[derive(Clone, Copy, Default)]
struct Case {
    decommissioned: bool,
    killed: bool,
    tier: Classification,
    /// Service tier range (from, to); `None`: every tier.
    range: Option<(Classification, Classification)>,
    not_auto: bool,
    grants_refused: bool,
    existing: Option<(ResourceState, bool)>,
    repeat: bool,
    unarmed: bool,
    /// (budget, others, before, after, estimate) in cents.
    money: Option<(i64, i64, i64, i64, i64)>,
    /// The project's review is overdue.
    overdue: bool,
    /// The existing resource's creation needed a person.
    gated: bool,
    /// `None`: the default policy.
    policy: Option<AutoApprove>,
}

/// What the rule answers: the error `code` and `field` (or "-"), or
/// "repeat", "approval" (with the reasons' codes), "auto".
fn run(c: Case) -> (String, String) {
    use Classification as C;
    let pr = project(
        if c.decommissioned {
            Lifecycle::Decommissioned
        } else {
            Lifecycle::Active
        },
        c.killed,
        c.tier,
    );
    let mut pr = pr;
    if c.overdue {
        pr.review_state = "overdue".into();
    }
    let policy = c.policy.unwrap_or_default();
    let (min, max) = c.range.unwrap_or((C::Poc, C::CriticalPath));
    let m = service(!c.not_auto, min, max);
    let existing = c.existing.map(|(s, armed)| resource(s, armed));
    let (budget, others, before, after, estimate) = c.money.unwrap_or((10_000, 2_000, 0, 100, 100));
    let verdict = admit(Facts {
        project: &pr,
        service: &m,
        grant_refusal: c
            .grants_refused
            .then(|| Error::invalid("spec.grants.secrets[0]", "outside the project")),
        existing: existing.as_ref(),
        repeat: c.repeat,
        gated: c.gated,
        armed: !c.unarmed,
        budget: Budget {
            budget,
            others,
            before,
            after,
            estimate,
        },
        policy: &policy,
        now: Utc::now(),
    });
    match verdict {
        Admission::Refused(e) => (e.code().into(), e.field().unwrap_or("-").into()),
        Admission::Repeat => ("repeat".into(), "-".into()),
        Admission::NeedsApproval(why) => (
            "approval".into(),
            why.iter()
                .map(|r| r.code.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
        Admission::AutoApproved => ("auto".into(), "-".into()),
    }
}

#[test]
fn the_admission_table() {
    use Classification as C;
    use ResourceState as S;
    let plain = Case::default();
    let cases: Vec<(&str, Case, &str, &str)> = vec![
        ("a plain ask runs at once", plain, "auto", "-"),
        (
            "decommissioned",
            Case {
                decommissioned: true,
                ..plain
            },
            "conflict",
            "-",
        ),
        (
            "killed",
            Case {
                killed: true,
                ..plain
            },
            "project_frozen",
            "-",
        ),
        (
            "the project's state comes before everything else",
            Case {
                killed: true,
                grants_refused: true,
                repeat: true,
                money: Some((100, 0, 0, 500, 500)),
                ..plain
            },
            "project_frozen",
            "-",
        ),
        (
            "below the tier range",
            Case {
                range: Some((C::LightOperational, C::CriticalPath)),
                ..plain
            },
            "forbidden",
            "-",
        ),
        (
            "above the tier range",
            Case {
                tier: C::WideOperational,
                range: Some((C::Poc, C::LightOperational)),
                ..plain
            },
            "forbidden",
            "-",
        ),
        (
            "grants outside the project",
            Case {
                grants_refused: true,
                ..plain
            },
            "invalid_request",
            "spec.grants.secrets[0]",
        ),
        (
            "grants are refused even on a repeat",
            Case {
                grants_refused: true,
                repeat: true,
                ..plain
            },
            "invalid_request",
            "spec.grants.secrets[0]",
        ),
        (
            "a repeat is answered, not re-checked",
            Case {
                repeat: true,
                money: Some((100, 0, 0, 500, 500)),
                existing: Some((S::Destroying, true)),
                ..plain
            },
            "repeat",
            "-",
        ),
        (
            "being destroyed",
            Case {
                existing: Some((S::Destroying, true)),
                ..plain
            },
            "conflict",
            "-",
        ),
        (
            "unarmed over a provisioned resource",
            Case {
                unarmed: true,
                existing: Some((S::Fulfilled, true)),
                ..plain
            },
            "conflict",
            "-",
        ),
        (
            "unarmed over a destroyed one",
            Case {
                unarmed: true,
                existing: Some((S::Destroyed, true)),
                ..plain
            },
            "auto",
            "-",
        ),
        (
            "unarmed over a plan",
            Case {
                unarmed: true,
                existing: Some((S::Planned, false)),
                ..plain
            },
            "auto",
            "-",
        ),
        (
            "over budget",
            Case {
                money: Some((10_000, 9_950, 0, 100, 100)),
                ..plain
            },
            "forbidden",
            "-",
        ),
        (
            "exactly the budget",
            Case {
                money: Some((10_000, 9_900, 0, 100, 100)),
                ..plain
            },
            "auto",
            "-",
        ),
        (
            "no budget",
            Case {
                money: Some((0, 1_000_000, 0, 100, 100)),
                ..plain
            },
            "approval",
            "over_project_ceiling",
        ),
        (
            "shrinking while over budget",
            Case {
                money: Some((1_000, 5_000, 3_000, 2_000, 2_000)),
                existing: Some((S::Fulfilled, true)),
                ..plain
            },
            "auto",
            "-",
        ),
        (
            "a busy resource is refused before the budget",
            Case {
                existing: Some((S::Destroying, true)),
                money: Some((100, 100, 0, 500, 500)),
                ..plain
            },
            "conflict",
            "-",
        ),
        (
            "the service always needs approval",
            Case {
                not_auto: true,
                ..plain
            },
            "approval",
            "service_needs_approval",
        ),
        (
            "a tier whose ceilings are 0",
            Case {
                tier: C::LightOperational,
                policy: Some(
                    AutoApprove::default().with(C::LightOperational, ceilings(0.0, 1000.0)),
                ),
                ..plain
            },
            "approval",
            "tier_needs_approval",
        ),
        (
            "above the per-resource ceiling",
            Case {
                money: Some((100_000, 0, 0, 5_001, 5_001)),
                ..plain
            },
            "approval",
            "over_resource_ceiling",
        ),
        (
            "at the per-resource ceiling",
            Case {
                money: Some((100_000, 0, 0, 5_000, 5_000)),
                ..plain
            },
            "auto",
            "-",
        ),
        (
            "past the project ceiling",
            Case {
                money: Some((100_000, 49_901, 0, 100, 100)),
                ..plain
            },
            "approval",
            "over_project_ceiling",
        ),
        (
            "unarmed still says whether it would need approval",
            Case {
                unarmed: true,
                not_auto: true,
                ..plain
            },
            "approval",
            "service_needs_approval",
        ),
        (
            "a review overdue loses auto-approval",
            Case {
                overdue: true,
                ..plain
            },
            "approval",
            "review_overdue",
        ),
        (
            "a change to a resource whose creation needed a person",
            Case {
                gated: true,
                existing: Some((S::Fulfilled, true)),
                ..plain
            },
            "approval",
            "approval_gated",
        ),
        (
            "a refusal still comes before the approval",
            Case {
                gated: true,
                overdue: true,
                existing: Some((S::Destroying, true)),
                ..plain
            },
            "conflict",
            "-",
        ),
        (
            "light-operational auto-approves by default",
            Case {
                tier: C::LightOperational,
                ..plain
            },
            "auto",
            "-",
        ),
        (
            "the older flat form: an unlisted tier needs a person",
            Case {
                tier: C::LightOperational,
                policy: Some(flat_poc_only()),
                ..plain
            },
            "approval",
            "tier_needs_approval",
        ),
    ];
    for (what, case, code, field) in cases {
        assert_eq!(run(case), (code.to_string(), field.to_string()), "{what}");
    }
}

pub(super) fn ceilings(resource: f64, project: f64) -> crate::config::auto_approve::Ceilings {
    crate::config::auto_approve::Ceilings {
        max_resource_monthly_usd: resource,
        max_project_monthly_usd: project,
    }
}

pub(super) fn flat_poc_only() -> AutoApprove {
    serde_yaml::from_str("{ classifications: [poc] }").unwrap()
}
