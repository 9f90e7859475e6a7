//! The tool catalog: names (a contract agents and docs rely on), when to use
//! each, and hand-written JSON Schemas for inputs and outputs. The order here
//! is the order of `tools/list`: stable, roughly the order an agent needs them.
//! A tool whose domain is not built yet is not listed.

use std::sync::{Arc, OnceLock};

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

pub(super) fn obj(v: Value) -> Arc<JsonObject> {
    match v {
        Value::Object(m) => Arc::new(m),
        _ => unreachable!("schemas are objects"),
    }
}

pub(super) const PROJECT_ID: &str = "Project id (proj-YYYY-NNNN). Optional with a project key (must match it); required with a personal access token.";

fn project_schema() -> Value {
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

fn seed_entry() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"}, "path": {"type": "string"}, "kind": {"type": "string"},
        "summary": {"type": "string"}, "title": {"type": "string"}, "reason": {"type": "string"}
    }, "required": ["id", "path", "kind", "summary"]})
}

pub(super) struct Def {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub input: Value,
    pub output: Value,
    pub read_only: bool,
    pub destructive: bool,
}

fn defs() -> Vec<Def> {
    vec![
        Def {
            name: "whoami",
            title: "Who am I",
            description: "Start here. Returns who you are acting as (a project key or a user's personal access token), the project a key is locked to, what you may do (`can`) and what you may not (`cannot`). A project key acts only on its own project. Next: seed_plan for guidance, or get_project.",
            input: json!({"type": "object", "properties": {}, "additionalProperties": false}),
            output: json!({"type": "object", "properties": {
                "kind": {"type": "string", "enum": ["project_key", "user"]},
                "actor": {"type": "string"}, "project_id": {"type": ["string", "null"]},
                "user": {"type": ["object", "null"]}, "role": {"type": ["string", "null"]},
                "can": {"type": "array", "items": {"type": "string"}, "description": "What this credential may do, naming the tools."},
                "cannot": {"type": "array", "items": {"type": "string"}, "description": "What it may not do (and who can)."}
            }, "required": ["kind", "actor", "can", "cannot"]}),
            read_only: true,
            destructive: false,
        },
        Def {
            name: "list_groups",
            title: "List registrable groups",
            description: "Lists the groups a project may register under, with their cost centers. Use before register_project to pick `group`.",
            input: json!({"type": "object", "properties": {}, "additionalProperties": false}),
            output: json!({"type": "object", "properties": {
                "groups": {"type": "array", "items": {"type": "object", "properties": {
                    "key": {"type": "string"}, "display_name": {"type": "string"}, "cost_center": {"type": ["string", "null"]}}}},
                "open_mode": {"type": "boolean"}
            }, "required": ["groups", "open_mode"]}),
            read_only: true,
            destructive: false,
        },
        Def {
            name: "register_project",
            title: "Register a project",
            description: "Registers a new project in the registry (needs a personal access token; a project key is locked to its own project). Nothing is provisioned outside a registered project. With a PAT the owner defaults to you. Returns the project with its id proj-YYYY-NNNN. Next: ask a human to mint a project key for the agent, then seed_plan.",
            input: json!({"type": "object", "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 120, "description": "Human name of the project (not a placeholder like TODO)."},
                "owner_email": {"type": "string", "description": "Owner's email; defaults to yours."},
                "manager_email": {"type": "string", "description": "Manager's email (required unless the operator turned that off)."},
                "group": {"type": "string", "description": "A group key from list_groups."},
                "budget_usd": {"type": "number", "minimum": 0, "description": "Monthly budget in USD; 0 = none set."},
                "classification": {"type": "string", "enum": ["poc", "light-operational"], "default": "poc"},
                "data_class": {"type": "string", "enum": ["public", "internal", "confidential", "restricted"], "default": "internal"},
                "description": {"type": "string", "maxLength": 2000},
                "evidence": {"type": "object", "description": "Evidence fields (see promotion_status for the names)."}
            }, "required": ["name"], "additionalProperties": false}),
            output: project_schema(),
            read_only: false,
            destructive: false,
        },
        Def {
            name: "get_project",
            title: "Get a project",
            description: "Reads a project you can see: owner, group, tier, budget, review date, evidence, whether it is frozen. With a project key, project_id may be omitted.",
            input: json!({"type": "object", "properties": {"project_id": {"type": "string", "description": PROJECT_ID}}, "additionalProperties": false}),
            output: project_schema(),
            read_only: true,
            destructive: false,
        },
        Def {
            name: "update_project",
            title: "Update a project",
            description: "Merge-updates a project: only the fields you send change. With a project key you may change description and evidence (e.g. to prepare a promotion); the owner, manager or an admin may also change name, budget_usd and manager_email. Send an evidence field as null to clear it.",
            input: json!({"type": "object", "properties": {
                "project_id": {"type": "string", "description": PROJECT_ID},
                "name": {"type": "string", "minLength": 1, "maxLength": 120},
                "description": {"type": ["string", "null"], "maxLength": 2000},
                "budget_usd": {"type": "number", "minimum": 0},
                "manager_email": {"type": "string"},
                "evidence": {"type": "object", "description": "Evidence fields to set (null clears one)."}
            }, "additionalProperties": false}),
            output: project_schema(),
            read_only: false,
            destructive: false,
        },
        Def {
            name: "promotion_status",
            title: "Promotion status",
            description: "Shows the project's tier, the next tier, and which evidence fields are still missing for it. Use it to see what to fill in with update_project before asking a human to promote.",
            input: json!({"type": "object", "properties": {"project_id": {"type": "string", "description": PROJECT_ID}}, "additionalProperties": false}),
            output: json!({"type": "object", "properties": {
                "project_id": {"type": "string"}, "current": {"type": "string"}, "next": {"type": ["string", "null"]},
                "missing": {"type": "array", "items": {"type": "string"}},
                "required": {"type": "array", "items": {"type": "string"}},
                "signals": {"type": "array", "items": {"type": "string"}}, "auto_approvable": {"type": "boolean"}
            }, "required": ["project_id", "current", "missing"]}),
            read_only: true,
            destructive: false,
        },
        Def {
            name: "seed_list",
            title: "List agent guidance files",
            description: "Lists every guidance file Asgard serves (core operating agreement, language add-ons, domain overlays, templates). Prefer seed_plan, which picks the right subset.",
            input: json!({"type": "object", "properties": {}, "additionalProperties": false}),
            output: json!({"type": "object", "properties": {"files": {"type": "array", "items": seed_entry()}}, "required": ["files"]}),
            read_only: true,
            destructive: false,
        },
        Def {
            name: "seed_plan",
            title: "Plan the guidance files for a repository",
            description: "Call this when starting work in a repository: give the languages and a one-line task, get the minimal set of guidance files (core agreement, one add-on per language, matching domain overlays, templates for the tier). Next: seed_get each id and write its body to its path.",
            input: json!({"type": "object", "properties": {
                "languages": {"type": "array", "items": {"type": "string"}, "description": "e.g. [\"rust\", \"typescript\"]"},
                "task": {"type": "string", "maxLength": 4000, "description": "What you are about to do, in a sentence."},
                "tier": {"type": "string", "enum": ["minimal", "standard", "strict"], "default": "standard"}
            }, "additionalProperties": false}),
            output: json!({"type": "object", "properties": {
                "tier": {"type": "string"}, "files": {"type": "array", "items": seed_entry()},
                "unmatched_languages": {"type": "array", "items": {"type": "string"}}, "next": {"type": "string"}
            }, "required": ["files", "next"]}),
            read_only: true,
            destructive: false,
        },
        Def {
            name: "seed_get",
            title: "Get a guidance file",
            description: "Returns one guidance file's body and the path to write it to in the repository. Ids come from seed_plan or seed_list.",
            input: json!({"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"], "additionalProperties": false}),
            output: json!({"type": "object", "properties": {
                "id": {"type": "string"}, "path": {"type": "string"}, "kind": {"type": "string"},
                "title": {"type": "string"}, "summary": {"type": "string"}, "body": {"type": "string"}
            }, "required": ["id", "path", "title", "body"]}),
            read_only: true,
            destructive: false,
        },
    ]
}

fn build() -> Vec<Tool> {
    let mut all = defs();
    // Provisioning tools go after whoami/list_groups/register/get/update.
    let tail = all.split_off(5);
    all.extend(super::provisioning_tools::defs());
    all.extend(tail);
    all.into_iter()
        .map(|d| {
            let mut ann = ToolAnnotations::new();
            ann.title = Some(d.title.to_string());
            ann.read_only_hint = Some(d.read_only);
            ann.destructive_hint = Some(d.destructive);
            ann.open_world_hint = Some(false);
            Tool::new(d.name, d.description, obj(d.input))
                .with_title(d.title)
                .with_raw_output_schema(obj(d.output))
                .with_annotations(ann)
        })
        .collect()
}

pub fn all() -> &'static [Tool] {
    static TOOLS: OnceLock<Vec<Tool>> = OnceLock::new();
    TOOLS.get_or_init(build)
}

pub fn find(name: &str) -> Option<&'static Tool> {
    all().iter().find(|t| t.name == name)
}

pub fn tool_names() -> Vec<&'static str> {
    all().iter().map(|t| t.name.as_ref()).collect::<Vec<_>>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_well_formed() {
        let names = tool_names();
        assert!(names.contains(&"seed_plan"));
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "tool names are unique");
        for t in all() {
            assert_eq!(
                t.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                t.name
            );
            assert_eq!(
                t.output_schema.as_ref().unwrap().get("type"),
                Some(&json!("object")),
                "{}",
                t.name
            );
            assert!(
                t.description.as_ref().unwrap().len() > 40,
                "{} needs a useful description",
                t.name
            );
        }
    }
}
