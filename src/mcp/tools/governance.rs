//! How far a project is from its next tier (`promotion_status`): the rule
//! is the governance domain's (`governance::promotion`).

use schemars::JsonSchema;
use serde::Deserialize;

use super::projects::ProjectRef;
use super::{Entry, Meta, PROJECT_ID, target_project, to_value};
use crate::edge::schema::output_schema;
use crate::governance::Classification;
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
    ]
}
