//! Registering, reading and updating projects.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value, json};

use super::{Entry, Meta, PROJECT_ID, target_project, to_value};
use crate::edge::schema::nullable;
use crate::registry::projects;

/// The output schema of every tool that answers a project.
pub(super) fn project_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "project_id": {"type": "string"}, "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "owner_email": {"type": "string"}, "manager_email": {"type": "string"},
            "group": {"type": ["string", "null"]}, "cost_center": {"type": ["string", "null"]},
            "classification": {"type": "string"}, "data_class": {"type": "string"},
            "budget_usd": {"type": "number"}, "lifecycle": {"type": "string"}, "killed": {"type": "boolean"},
            "review": {"type": "object"}, "evidence": {"type": "object"},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"}
        },
        "required": ["project_id", "name", "classification", "lifecycle", "killed"]
    })
}

// The tiers a project may be registered at over MCP.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum StartTier {
    Poc,
    LightOperational,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum DataClass {
    Public,
    Internal,
    Confidential,
    Restricted,
}

/// `register_project`. Serialized back (absent fields left out) into the
/// body the registry parses, the same body `POST /api/projects` takes.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewProject {
    /// Human name of the project (not a placeholder like TODO).
    #[schemars(length(min = 1, max = 120))]
    name: String,
    /// Owner's email; defaults to yours.
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_email: Option<String>,
    /// Manager's email (required unless the operator turned that off).
    #[serde(skip_serializing_if = "Option::is_none")]
    manager_email: Option<String>,
    /// A group key from list_groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    /// Monthly budget in USD; 0 = none set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    budget_usd: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "poc"))]
    classification: Option<StartTier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("default" = "internal"))]
    data_class: Option<DataClass>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2000))]
    description: Option<String>,
    /// Evidence fields (see promotion_status for the names).
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Map<String, Value>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectRef {
    #[schemars(description = PROJECT_ID)]
    pub project_id: Option<String>,
}

/// `update_project`: a merge patch. Serialized back (absent fields left
/// out, a `null` description kept, `project_id` removed) into the body the
/// registry parses.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ProjectChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(description = PROJECT_ID)]
    project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 120))]
    name: Option<String>,
    // `null` clears the description.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(max = 2000), extend("x-nullable" = true))]
    description: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    budget_usd: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manager_email: Option<String>,
    /// Evidence fields to set (null clears one).
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<Map<String, Value>>,
}

pub(super) fn entries() -> Vec<Entry> {
    vec![
        Entry::new(
            Meta {
                name: "register_project",
                title: "Register a project",
                description: "Registers a new project in the registry (needs a personal access token; a project key is locked to its own project). Nothing is provisioned outside a registered project. With a PAT the owner defaults to you. Returns the project with its id proj-YYYY-NNNN. Next: ask a human to mint a project key for the agent, then seed_plan.",
                output: project_schema(),
                read_only: false,
                destructive: false,
            },
            |app, p, a: NewProject| {
                Box::pin(async move {
                    let body = to_value(&a)?;
                    Ok(projects::register(app, p, &body, p.email())
                        .await?
                        .to_json())
                })
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
                    Ok(projects::get(app, p, &id).await?.to_json())
                })
            },
        ),
        Entry::new(
            Meta {
                name: "update_project",
                title: "Update a project",
                description: "Merge-updates a project: only the fields you send change. With a project key you may change description and evidence (e.g. to prepare a promotion); the owner, manager or an admin may also change name, budget_usd and manager_email. Send an evidence field as null to clear it.",
                output: project_schema(),
                read_only: false,
                destructive: false,
            },
            |app, p, a: ProjectChanges| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id.clone())?;
                    let mut body = to_value(&a)?;
                    if let Some(m) = body.as_object_mut() {
                        m.remove("project_id");
                    }
                    Ok(projects::patch(app, p, &id, &body).await?.to_json())
                })
            },
        ),
    ]
}
