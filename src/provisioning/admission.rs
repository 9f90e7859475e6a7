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
//!
//! Whether a human must approve is `approval_reasons`, per tier: the
//! service must be `auto_approvable`, the tier's two ceilings
//! (`provisioning.auto_approve`) must hold, the project's review must not be
//! overdue, and a change to a resource whose creation needed a person needs
//! one too. The catalog asks the same function what a request would need.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::Manifest;
use crate::config::file::AutoApprove;
use crate::error::{Error, Result};
use crate::governance::Classification;
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
    /// The existing resource's creation needed a person, so its changes do.
    pub gated: bool,
    /// This replica runs Terraform.
    pub armed: bool,
    pub budget: Budget,
    pub policy: &'a AutoApprove,
    /// The transaction's time, against which the review date is read.
    pub now: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug)]
pub enum Admission {
    /// Refused, with the error the caller gets.
    Refused(Error),
    /// The same ask again: answered with what exists, nothing written.
    Repeat,
    /// Taken, and an admin must approve it (why, never empty).
    NeedsApproval(Vec<ApprovalReason>),
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
        gated,
        armed,
        budget,
        policy,
        now,
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
    let why = approval_reasons(&Ask {
        service,
        tier: project.classification,
        review_overdue: review_overdue(project, now),
        gated,
        estimate: budget.estimate,
        others: budget.others,
        policy,
    });
    if why.is_empty() {
        Admission::AutoApproved
    } else {
        Admission::NeedsApproval(why)
    }
}

/// Why a request needs a person: `code` is stable, `message` is for people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalReason {
    /// `service_needs_approval`, `tier_needs_approval`,
    /// `over_resource_ceiling`, `over_project_ceiling`, `review_overdue` or
    /// `approval_gated`.
    pub code: String,
    pub message: String,
}

/// The facts the approval rule reads.
pub struct Ask<'a> {
    pub service: &'a Manifest,
    pub tier: Classification,
    pub review_overdue: bool,
    /// A change to a resource whose creation needed a person.
    pub gated: bool,
    /// This ask's estimate, in cents per month.
    pub estimate: i64,
    /// What the project's other resources commit, in cents per month.
    pub others: i64,
    pub policy: &'a AutoApprove,
}

/// The reasons as one text, for people (and the audit entry).
pub fn why_text(why: &[ApprovalReason]) -> String {
    why.iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The reasons as recorded on the request (a JSON list).
pub fn recorded(why: &[ApprovalReason]) -> String {
    serde_json::to_string(why).unwrap_or_default()
}

/// The reasons recorded on a request; text that is not a list of them is
/// kept as one reason with the code `recorded`.
pub fn parse_recorded(text: &str) -> Vec<ApprovalReason> {
    serde_json::from_str(text).unwrap_or_else(|_| {
        vec![ApprovalReason {
            code: "recorded".into(),
            message: text.into(),
        }]
    })
}

/// The one reason a destroy waits: what it destroys was let through by a
/// person.
pub fn gated_reason() -> ApprovalReason {
    ApprovalReason {
        code: "approval_gated".into(),
        message: "this resource's creation needed an admin's approval, so changing or destroying it does too".into(),
    }
}

/// The project's review is overdue: it loses auto-approval until reviewed
/// or extended. Past its date counts at once, not only once the sweep has
/// marked it (the metrics read it the same way).
pub fn review_overdue(p: &Project, now: chrono::DateTime<chrono::Utc>) -> bool {
    p.review_state == "overdue" || p.review_date.is_some_and(|d| d < now)
}

/// Every reason the ask needs a person; empty: it may run at once.
pub fn approval_reasons(a: &Ask<'_>) -> Vec<ApprovalReason> {
    let mut out = Vec::new();
    let mut why = |code: &str, message: String| {
        out.push(ApprovalReason {
            code: code.into(),
            message,
        });
    };
    if !a.service.auto_approvable {
        why(
            "service_needs_approval",
            format!("{} always needs an admin's approval", a.service.id),
        );
    }
    if a.gated {
        let g = gated_reason();
        why(&g.code, g.message);
    }
    if a.review_overdue {
        why(
            "review_overdue",
            "the project's review is overdue: nothing is auto-approved until it is reviewed or extended".into(),
        );
    }
    let c = a.policy.ceilings(a.tier);
    let cents = |usd: f64| (usd * 100.0).round() as i64;
    if c.off() {
        why(
            "tier_needs_approval",
            format!(
                "projects at {} need an admin's approval for every request (provisioning.auto_approve)",
                a.tier.as_str()
            ),
        );
        return out;
    }
    if a.estimate > cents(c.max_resource_monthly_usd) {
        why(
            "over_resource_ceiling",
            format!(
                "the estimate ({} USD/month) is above the {} ceiling of {} USD/month per resource",
                a.estimate as f64 / 100.0,
                a.tier.as_str(),
                c.max_resource_monthly_usd
            ),
        );
    }
    if a.others + a.estimate > cents(c.max_project_monthly_usd) {
        why(
            "over_project_ceiling",
            format!(
                "the project would commit {} USD/month, above the {} ceiling of {} USD/month",
                (a.others + a.estimate) as f64 / 100.0,
                a.tier.as_str(),
                c.max_project_monthly_usd
            ),
        );
    }
    out
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
#[path = "admission_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "admission_tier_tests.rs"]
mod tier_tests;
