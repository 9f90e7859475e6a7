//! How far a project is from its next tier (`promotion_status`), asking for
//! the next one (`request_promotion`) and the portfolio metrics
//! (`governance_metrics`): the rules are the governance domain's
//! (`governance::promotion`, `governance::metrics`).

use schemars::JsonSchema;
use serde::Deserialize;

use super::projects::ProjectRef;
use super::{Entry, Meta, PROJECT_ID, target_project, to_value};
use crate::edge::schema::output_schema;
use crate::governance::Classification;
use crate::governance::metrics::GovernanceMetrics;
use crate::governance::portfolio;
use crate::governance::promotion::PromotionStatus;
use crate::registry::governance::{self, PromotionAnswer, PromotionAsk};

/// `request_promotion`'s arguments: the project and the ask.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RequestPromotion {
    #[schemars(description = PROJECT_ID)]
    #[serde(default)]
    project_id: Option<String>,
    /// The tier asked for: exactly one step above the current one (the next
    /// tier when left out).
    #[serde(default)]
    target: Option<Classification>,
    /// Why, for the approver.
    #[serde(default)]
    reason: Option<String>,
}

/// `governance_metrics` takes no arguments: the credential sets the scope.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

pub(super) fn entries() -> Vec<Entry> {
    vec![
        Entry::new(
            Meta {
                name: "promotion_status",
                title: "Promotion status",
                description: "Shows the project's tier, the next tier, and which evidence fields are still missing for it. Use it to see what to fill in with update_project before asking a human to promote.",
                output: output_schema::<PromotionStatus>(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: ProjectRef| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    to_value(governance::status(app.registry(), p, &id).await?)
                })
            },
        ),
        Entry::new(
            Meta {
                name: "request_promotion",
                title: "Request a promotion",
                description: "Asks to move the project one tier up (poc → light-operational → wide-operational → critical-path). The evidence is checked on the server: a step to light-operational with complete evidence and no stack exception applies at once; every other step waits for an admin who is not you (critical-path also needs risk_acceptance_url). Check promotion_status first; fill in missing evidence with update_project.",
                output: output_schema::<PromotionAnswer>(),
                read_only: false,
                destructive: false,
            },
            |app, p, a: RequestPromotion| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    let ask = PromotionAsk {
                        target: a.target,
                        reason: a.reason,
                    };
                    to_value(governance::request_promotion(app.registry(), p, &id, ask).await?)
                })
            },
        ),
        Entry::new(
            Meta {
                name: "governance_metrics",
                title: "Governance metrics",
                description: "Portfolio metrics, overall and per tier: projects, overdue reviews, projects below the maintainer minimum, missing evidence, pending approvals and their age, median approval latency, killed projects, committed cost against budget; each with its target and offending project ids, measurable: false when there is no data. Org-wide for an admin or auditor; a project key sees its own project, a member the projects they own or manage.",
                output: output_schema::<GovernanceMetrics>(),
                read_only: true,
                destructive: false,
            },
            |app, p, _a: NoArgs| {
                Box::pin(async move { to_value(portfolio::metrics(app.registry(), p).await?) })
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::Utc;
    use serde_json::Value;

    use crate::catalog::schema::validate;
    use crate::governance::Classification;
    use crate::governance::metrics::{
        self, ApprovalRow, MetricsScope, Policy, ProjectRow, TierChange,
    };

    /// The advertised outputSchema accepts a real answer, unchanged.
    #[test]
    fn the_answer_fits_the_advertised_schema() {
        let t = super::super::find("governance_metrics").unwrap();
        let schema = Value::Object((**t.tool().output_schema.as_ref().unwrap()).clone());
        let now = Utc::now();
        let pr = ProjectRow {
            id: "proj-2026-0001".into(),
            tier: Classification::LightOperational,
            killed: true,
            review_state: "ok".into(),
            review_date: None,
            owner_email: "o@corp.example".into(),
            manager_email: "m@corp.example".into(),
            evidence: Default::default(),
            budget_cents: 100,
            committed_cents: 0,
            created_at: now - chrono::Duration::days(10),
            tier_changes: vec![TierChange {
                at: now - chrono::Duration::days(1),
                from: Classification::Poc,
                to: Classification::LightOperational,
            }],
        };
        let waiting = ApprovalRow {
            project_id: pr.id.clone(),
            created_at: now,
            decided_at: None,
        };
        let policy = Policy {
            maintainer_min: 2,
            poc_window_days: 90,
            overrides: &BTreeMap::new(),
        };
        let m = metrics::compute(&[pr], &[waiting], policy, MetricsScope::Organisation, now);
        let v = serde_json::to_value(&m).unwrap();
        let mut checked = v.clone();
        validate("", &schema, &mut checked).unwrap_or_else(|e| panic!("{e:?}: {v:#}"));
        assert_eq!(checked, v);
        assert_eq!(v["operational_projects"], 1);
        assert_eq!(v["scope"], "organisation");
    }
}
