//! Registering, reading and updating projects. The arguments and the
//! answer are the registry's own types (`registry::input`,
//! `registry::ProjectView`), the same ones the REST routes take and give.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{Body, Entry, Meta, PROJECT_ID, target_project};
use crate::edge::schema::output_schema;
use crate::registry::input::{self, NewProject, ProjectPatch};
use crate::registry::{ProjectView, projects};

/// The output schema of every tool that answers a project.
pub(super) fn project_schema() -> Value {
    output_schema::<ProjectView<'static>>()
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectRef {
    #[schemars(description = PROJECT_ID)]
    pub project_id: Option<String>,
}

/// `update_project`: the project and a merge patch. Unknown arguments are
/// refused by the schema check (serde cannot deny them across `flatten`).
#[derive(Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
struct UpdateProject {
    #[schemars(description = PROJECT_ID)]
    project_id: Option<String>,
    #[serde(flatten)]
    changes: ProjectPatch,
}

/// A project body is trimmed before its schema check, and a refused
/// evidence list item is reported on its field, as on REST.
fn project_body() -> Body {
    Body {
        prepare: input::normalize,
        refine: input::refusal,
    }
}

pub(super) fn entries() -> Vec<Entry> {
    vec![
        Entry::with_body(
            Meta {
                name: "register_project",
                title: "Register a project",
                description: "Registers a new project in the registry (needs a personal access token; a project key is locked to its own project). Nothing is provisioned outside a registered project. With a PAT the owner defaults to you. Returns the project with its id proj-YYYY-NNNN. Next: ask a human to mint a project key for the agent, then seed_plan.",
                output: project_schema(),
                read_only: false,
                destructive: false,
            },
            project_body(),
            |app, p, a: NewProject| {
                Box::pin(
                    async move { Ok(projects::register(app.registry(), p, a).await?.to_json()) },
                )
            },
        ),
        Entry::new(
            Meta {
                name: "get_project",
                title: "Get a project",
                description: "Reads a project you can see: owner, group, tier, budget, review date, evidence, whether it is frozen. With a project key, project_id may be omitted.",
                output: project_schema(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: ProjectRef| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    Ok(projects::get(app.registry(), p, &id).await?.to_json())
                })
            },
        ),
        Entry::with_body(
            Meta {
                name: "update_project",
                title: "Update a project",
                description: "Merge-updates a project: only the fields you send change. With a project key you may change description and evidence (e.g. to prepare a promotion); the owner, manager or an admin may also change name, budget_usd, manager_email and data_class, and an admin owner_email and group. Send an evidence field as null to clear it.",
                output: project_schema(),
                read_only: false,
                destructive: false,
            },
            project_body(),
            |app, p, a: UpdateProject| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    Ok(projects::patch(app.registry(), p, &id, a.changes)
                        .await?
                        .to_json())
                })
            },
        ),
    ]
}
