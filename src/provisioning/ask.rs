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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edge::schema::{parse, schema_for};
    use serde_json::json;

    fn field_of(args: Value) -> String {
        let Value::Object(raw) = args else { panic!() };
        match parse::<ResourceAsk>(&schema_for::<ResourceAsk>(), raw) {
            Ok(_) => "ok".into(),
            Err(e) => e.field().unwrap_or("?").to_string(),
        }
    }

    #[test]
    fn the_schema_is_the_contract() {
        let s = Value::Object((*schema_for::<ResourceAsk>()).clone());
        assert_eq!(s["required"], json!(["service", "name"]));
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["properties"]["name"]["pattern"], json!(NAME_PATTERN));
        assert_eq!(s["properties"]["spec"]["type"], json!("object"));
    }

    #[test]
    fn refusals_name_the_field() {
        let ok = json!({"service": "demo-token", "name": "tok"});
        assert_eq!(field_of(ok), "ok");
        for (args, field) in [
            (json!({"name": "tok"}), "service"),
            (json!({"service": "demo-token"}), "name"),
            (json!({"service": "demo-token", "name": "../x"}), "name"),
            (json!({"service": "demo-token", "name": "Upper"}), "name"),
            (json!({"service": 7, "name": "tok"}), "service"),
            (json!({"service": "s", "name": "tok", "spec": [1]}), "spec"),
            (json!({"service": "s", "name": "tok", "spec": null}), "spec"),
            (json!({"service": "s", "name": "tok", "bogus": 1}), "bogus"),
        ] {
            assert_eq!(field_of(args.clone()), field, "{args}");
        }
    }
}
