//! A project body as the REST door receives it, parsed into the registry's
//! one typed body: evidence fields sent at the top level are moved into
//! `evidence` (`registry::input::lift_evidence`), then the body is checked
//! against the type's own schema and parsed. MCP takes the same types
//! through its tool table, without the top-level form.

use std::sync::{Arc, LazyLock};

use super::schema::{self, JsonObject};
use crate::error::Result;
use crate::registry::input::{self, NewProject, ProjectPatch};

static NEW_PROJECT: LazyLock<Arc<JsonObject>> = LazyLock::new(schema::schema_for::<NewProject>);
static PROJECT_PATCH: LazyLock<Arc<JsonObject>> = LazyLock::new(schema::schema_for::<ProjectPatch>);

/// `POST /api/projects`.
pub fn new_project(mut raw: JsonObject) -> Result<NewProject> {
    input::lift_evidence(&mut raw, false)?;
    parse_new(raw)
}

/// `PATCH /api/projects/{id}`.
pub fn project_patch(mut raw: JsonObject) -> Result<ProjectPatch> {
    input::lift_evidence(&mut raw, true)?;
    parse_patch(raw)
}

/// A registration body (evidence nested), as both doors parse it: trimmed,
/// checked against `NewProject`'s schema, parsed.
pub fn parse_new(mut raw: JsonObject) -> Result<NewProject> {
    input::normalize(&mut raw);
    schema::parse(&NEW_PROJECT, raw).map_err(input::refusal)
}

/// A patch body (evidence nested), as both doors parse it.
pub fn parse_patch(mut raw: JsonObject) -> Result<ProjectPatch> {
    input::normalize(&mut raw);
    schema::parse(&PROJECT_PATCH, raw).map_err(input::refusal)
}

#[cfg(test)]
#[path = "project_body_tests.rs"]
mod tests;
