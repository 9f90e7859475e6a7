//! How far a project is from its next tier (`promotion_status`): the rule
//! is the governance domain's (`governance::promotion`).

use super::projects::ProjectRef;
use super::{Entry, Meta, target_project, to_value};
use crate::edge::schema::output_schema;
use crate::governance::promotion::{self, PromotionStatus};
use crate::registry::projects;

pub(super) fn entries() -> Vec<Entry> {
    vec![Entry::new(
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
                let pr = projects::get(app.registry(), p, &id).await?;
                to_value(promotion::status(
                    &pr.id,
                    pr.classification,
                    pr.killed,
                    &pr.evidence_map(),
                    &app.config.file.classification_requirements,
                ))
            })
        },
    )]
}
