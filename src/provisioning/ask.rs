//! `ResourceAsk`: what an agent asks `request_resource` for, described once.
//! The REST body (`POST /api/projects/{id}/resources`) and the MCP tool's
//! arguments are this type (the tool adds only `project_id`, which REST
//! takes from the path), so the parser, the OpenAPI request schema and the
//! MCP `inputSchema` come from the same definition.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The rule a resource name follows (also checked by the domain, so that a
/// door which does not run the schema check cannot let another name in).
pub const NAME_PATTERN: &str = r"^[a-z][a-z0-9-]{1,40}$";

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceAsk {
    /// A service id from list_services.
    pub service: String,
    /// The resource's name within the project.
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub name: String,
    /// Inputs per the service's schema (get_service).
    #[serde(default)]
    pub spec: Option<Map<String, Value>>,
}
