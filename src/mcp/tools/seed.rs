//! Agent guidance: the seed files an agent writes into its repository.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Entry, Meta, to_value};
use crate::edge::schema::NoArgs;
use crate::error::Error;
use crate::seed::Tier;

/// The longest `task` `seed_plan` takes: a sentence, not a document.
const TASK_MAX_CHARS: u32 = 4000;

fn seed_entry() -> Value {
    json!({"type": "object", "properties": {
        "id": {"type": "string"}, "path": {"type": "string"}, "kind": {"type": "string"},
        "summary": {"type": "string"}, "title": {"type": "string"}, "reason": {"type": "string"}
    }, "required": ["id", "path", "kind", "summary"]})
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PlanAsk {
    /// e.g. ["rust", "typescript"]
    languages: Option<Vec<String>>,
    /// What you are about to do, in a sentence.
    #[schemars(length(max = TASK_MAX_CHARS))]
    task: Option<String>,
    #[schemars(extend("default" = "standard"))]
    tier: Option<Tier>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SeedRef {
    id: String,
}

pub(super) fn entries() -> Vec<Entry> {
    vec![
        Entry::new(
            Meta {
                name: "seed_list",
                title: "List agent guidance files",
                description: "Lists every guidance file Asgard serves (core operating agreement, language add-ons, domain overlays, templates). Prefer seed_plan, which picks the right subset.",
                output: json!({"type": "object", "properties": {"files": {"type": "array", "items": seed_entry()}}, "required": ["files"]}),
                read_only: true,
                destructive: false,
            },
            |app, _, NoArgs {}| Box::pin(async move { Ok(json!({"files": app.seed.list()})) }),
        ),
        Entry::new(
            Meta {
                name: "seed_plan",
                title: "Plan the guidance files for a repository",
                description: "Call this when starting work in a repository: give the languages and a one-line task, get the minimal set of guidance files (core agreement, one add-on per language, matching domain overlays, templates for the tier). Next: seed_get each id and write its body to its path.",
                output: json!({"type": "object", "properties": {
                    "tier": {"type": "string"}, "files": {"type": "array", "items": seed_entry()},
                    "unmatched_languages": {"type": "array", "items": {"type": "string"}}, "next": {"type": "string"}
                }, "required": ["files", "next"]}),
                read_only: true,
                destructive: false,
            },
            |app, _, a: PlanAsk| {
                Box::pin(async move {
                    let languages = a.languages.unwrap_or_default();
                    let task = a.task.unwrap_or_default();
                    to_value(app.seed.plan(&languages, &task, a.tier.unwrap_or_default()))
                })
            },
        ),
        Entry::new(
            Meta {
                name: "seed_get",
                title: "Get a guidance file",
                description: "Returns one guidance file's body and the path to write it to in the repository. Ids come from seed_plan or seed_list.",
                output: json!({"type": "object", "properties": {
                    "id": {"type": "string"}, "path": {"type": "string"}, "kind": {"type": "string"},
                    "title": {"type": "string"}, "summary": {"type": "string"}, "body": {"type": "string"}
                }, "required": ["id", "path", "title", "body"]}),
                read_only: true,
                destructive: false,
            },
            |app, _, a: SeedRef| {
                Box::pin(async move {
                    let f = app
                        .seed
                        .get(&a.id)
                        .ok_or_else(|| Error::not_found(format!("seed file {}", a.id)))?;
                    Ok(f.to_full_json())
                })
            },
        ),
    ]
}
