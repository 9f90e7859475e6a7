//! How far a project is from its next tier (`promotion_status`).

use serde_json::{Value, json};

use super::projects::ProjectRef;
use super::{Entry, Meta, target_project};
use crate::app::App;
use crate::governance::{Classification, evidence};
use crate::registry::{Project, projects};

pub(super) fn entries() -> Vec<Entry> {
    vec![Entry::new(
        Meta {
            name: "promotion_status",
            title: "Promotion status",
            description: "Shows the project's tier, the next tier, and which evidence fields are still missing for it. Use it to see what to fill in with update_project before asking a human to promote.",
            output: json!({"type": "object", "properties": {
                "project_id": {"type": "string"}, "current": {"type": "string"}, "next": {"type": ["string", "null"]},
                "missing": {"type": "array", "items": {"type": "string"}},
                "required": {"type": "array", "items": {"type": "string"}},
                "signals": {"type": "array", "items": {"type": "string"}}, "auto_approvable": {"type": "boolean"}
            }, "required": ["project_id", "current", "missing"]}),
            read_only: true,
            destructive: false,
        },
        |app, p, a: ProjectRef| {
            Box::pin(async move {
                let id = target_project(p, a.project_id)?;
                let pr = projects::get(app, p, &id).await?;
                Ok(promotion_status(app, &pr))
            })
        },
    )]
}

fn promotion_status(app: &App, pr: &Project) -> Value {
    let current = pr.classification;
    let next = current.next();
    let ev: evidence::Evidence = serde_json::from_str(&pr.evidence).unwrap_or_default();
    let overrides = &app.config.file.classification_requirements;
    let (missing, required) = match next {
        Some(n) => (
            evidence::missing_for(&ev, n, overrides),
            evidence::required_for(n, overrides),
        ),
        None => (vec![], vec![]),
    };
    let mut signals = Vec::new();
    if ev.contains_key("stack_exception") {
        signals.push("stack_exception: the project runs outside the supported stack".to_string());
    }
    if pr.killed {
        signals.push("frozen: the project is killed".to_string());
    }
    let auto =
        next == Some(Classification::LightOperational) && missing.is_empty() && signals.is_empty();
    json!({
        "project_id": pr.id, "current": current.as_str(), "next": next.map(|n| n.as_str()),
        "missing": missing, "required": required, "signals": signals, "auto_approvable": auto,
    })
}
