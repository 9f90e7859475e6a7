//! Whether `request_resource` takes an ask, as one pure function over what
//! the use case has read: the project (lifecycle, kill switch, tier), the
//! service (tier range, auto-approval), the grants check, the resource the
//! ask would change, the budget and the auto-approve policy. The use case
//! reads these inside its transaction (the budget under the project lock)
//! and does what the answer says; the rule itself can be read, and tested,
//! on its own.
//!
//! The checks run in a fixed order, so an ask that breaks several rules is
//! always refused for the same one: project state, tier, grants, then (a
//! repeated ask is answered here) the resource's own state, the budget, and
//! last whether a human must approve.

use crate::catalog::Manifest;
use crate::config::file::AutoApprove;
use crate::error::{Error, Result};
use crate::registry::Project;

use super::{Resource, ResourceState, estimate, gate};

/// What the ask does to the project's budget, in cents per month.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// The project's budget (0: none).
    pub budget: i64,
    /// What the project's other resources commit.
    pub others: i64,
    /// What the resource commits now (0 for a new one).
    pub before: i64,
    /// What it would commit with this ask.
    pub after: i64,
    /// This ask's own estimate.
    pub estimate: i64,
}

/// Everything the rule looks at.
pub struct Facts<'a> {
    pub project: &'a Project,
    pub service: &'a Manifest,
    /// Why the spec's grants reach outside the project, if they do.
    pub grant_refusal: Option<Error>,
    /// The resource of that service and name, if the project has one.
    pub existing: Option<&'a Resource>,
    /// The ask repeats one that exists or is on its way.
    pub repeat: bool,
    /// This replica runs Terraform.
    pub armed: bool,
    pub budget: Budget,
    pub policy: &'a AutoApprove,
}

#[derive(Debug)]
pub enum Admission {
    /// Refused, with the error the caller gets.
    Refused(Error),
    /// The same ask again: answered with what exists, nothing written.
    Repeat,
    /// Taken, and an admin must approve it (why).
    NeedsApproval(String),
    /// Taken, and it may run at once.
    AutoApproved,
}

pub fn admit(f: Facts<'_>) -> Admission {
    let Facts {
        project,
        service,
        grant_refusal,
        existing,
        repeat,
        armed,
        budget,
        policy,
    } = f;
    if let Err(e) = refusal(project, service, grant_refusal) {
        return Admission::Refused(e);
    }
    if repeat {
        return Admission::Repeat;
    }
    if let Err(e) = change_refusal(existing, armed, budget) {
        return Admission::Refused(e);
    }
    match gate::approval_reason(
        service,
        project.classification,
        budget.estimate,
        budget.others,
        policy,
    ) {
        Some(why) => Admission::NeedsApproval(why),
        None => Admission::AutoApproved,
    }
}

/// What refuses even a repeated ask: the project's state, the tier range
/// and grants that reach outside the project.
fn refusal(project: &Project, m: &Manifest, grants: Option<Error>) -> Result<()> {
    project.require_live()?;
    gate::check_tier(m, project.classification)?;
    grants.map_or(Ok(()), Err)
}

/// What refuses a new ask or a change: the resource's own state, then the
/// budget.
fn change_refusal(existing: Option<&Resource>, armed: bool, b: Budget) -> Result<()> {
    if let Some(r) = existing {
        refuse_change(r, armed)?;
    }
    if !estimate::admits(b.budget, b.others, b.before, b.after) {
        return Err(Error::forbidden(
            format!(
                "over budget: {} committed + {} for this request > {} USD/month",
                b.others as f64 / 100.0,
                b.after as f64 / 100.0,
                b.budget as f64 / 100.0
            ),
            "raise the project's budget_usd, or deprovision something first",
        ));
    }
    Ok(())
}

/// Changes an existing resource cannot take here.
fn refuse_change(r: &Resource, armed: bool) -> Result<()> {
    if !armed && r.armed && r.state != ResourceState::Destroyed {
        // Recording a plan over it would mark a live cloud object as never
        // created: a later destroy would skip Terraform and orphan it.
        return Err(Error::conflict(
            format!(
                "provisioning is not armed on this replica, and {} is a provisioned resource",
                r.name
            ),
            "send the request to an armed replica (ASGARD_TF_MODULES_DIR set)",
        ));
    }
    if r.state == ResourceState::Destroying {
        return Err(Error::conflict(
            format!("{} is being destroyed", r.name),
            "wait for the destroy to finish (get_request), then request it again",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
    }

    /// What the rule answers: the error `code` and `field` (or "-"), or
    /// "repeat", "approval", "auto".
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
        let (min, max) = c.range.unwrap_or((C::Poc, C::CriticalPath));
        let m = service(!c.not_auto, min, max);
        let existing = c.existing.map(|(s, armed)| resource(s, armed));
        let (budget, others, before, after, estimate) =
            c.money.unwrap_or((10_000, 2_000, 0, 100, 100));
        let verdict = admit(Facts {
            project: &pr,
            service: &m,
            grant_refusal: c
                .grants_refused
                .then(|| Error::invalid("spec.grants.secrets[0]", "outside the project")),
            existing: existing.as_ref(),
            repeat: c.repeat,
            armed: !c.unarmed,
            budget: Budget {
                budget,
                others,
                before,
                after,
                estimate,
            },
            policy: &AutoApprove::default(),
        });
        match verdict {
            Admission::Refused(e) => (e.code().into(), e.field().unwrap_or("-").into()),
            Admission::Repeat => ("repeat".into(), "-".into()),
            Admission::NeedsApproval(_) => ("approval".into(), "-".into()),
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
                "-",
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
                "-",
            ),
            (
                "tier not auto-approved",
                Case {
                    tier: C::LightOperational,
                    ..plain
                },
                "approval",
                "-",
            ),
            (
                "above the per-resource ceiling",
                Case {
                    money: Some((100_000, 0, 0, 5_001, 5_001)),
                    ..plain
                },
                "approval",
                "-",
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
                "-",
            ),
            (
                "unarmed still says whether it would need approval",
                Case {
                    unarmed: true,
                    not_auto: true,
                    ..plain
                },
                "approval",
                "-",
            ),
        ];
        for (what, case, code, field) in cases {
            assert_eq!(run(case), (code.to_string(), field.to_string()), "{what}");
        }
    }
}
