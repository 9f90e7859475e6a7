//! The rmcp `ServerHandler`: `initialize` info, `tools/list` from the
//! catalog, and `tools/call` dispatch to the domain. Arguments are checked
//! against the tool's input schema (unknown keys, basic types) before any
//! domain call, so an agent gets a precise `invalid_argument`.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use serde_json::{Value, json};

use super::error::tool_error;
use super::tools;
use crate::app::App;
use crate::auth::{Identity, Principal};
use crate::error::{Error, Result};
use crate::governance::{Classification, evidence};
use crate::provisioning::{query, request};
use crate::registry::projects;
use crate::seed::Tier;

const INSTRUCTIONS: &str = "Asgard is your organisation's governed control plane. Start with `whoami`. \
Work only inside a registered project (register_project with a personal access token, or use the project your key is locked to). \
Call `seed_plan` with your languages and task, then `seed_get` each file and write it to its path. \
Never hard-code secrets. Tool errors carry {code, message, hint}: follow the hint.";

#[derive(Clone)]
pub struct AsgardMcp {
    app: Arc<App>,
}

impl AsgardMcp {
    pub fn new(app: Arc<App>) -> Self {
        AsgardMcp { app }
    }

    async fn dispatch(&self, p: &Principal, name: &str, args: Value) -> Result<Value> {
        let app = &*self.app;
        match name {
            "whoami" => Ok(whoami(p)),
            "list_groups" => Ok(list_groups(app)),
            "register_project" => {
                let pr = projects::register(app, p, &args, p.email()).await?;
                Ok(pr.to_json())
            }
            "get_project" => {
                let id = target_project(p, &args)?;
                Ok(projects::get(app, p, &id).await?.to_json())
            }
            "update_project" => {
                let id = target_project(p, &args)?;
                let mut body = args.clone();
                if let Some(m) = body.as_object_mut() {
                    m.remove("project_id");
                }
                Ok(projects::patch(app, p, &id, &body).await?.to_json())
            }
            "promotion_status" => {
                let id = target_project(p, &args)?;
                let pr = projects::get(app, p, &id).await?;
                Ok(promotion_status(app, &pr))
            }
            "seed_list" => Ok(json!({"files": app.seed.list()})),
            "seed_plan" => {
                let languages: Vec<String> = match args.get("languages") {
                    Some(v) => serde_json::from_value(v.clone())
                        .map_err(|_| Error::invalid("languages", "must be an array of strings"))?,
                    None => Vec::new(),
                };
                let task = args.get("task").and_then(Value::as_str).unwrap_or("");
                let tier = match args.get("tier").and_then(Value::as_str) {
                    None => Tier::default(),
                    Some("minimal") => Tier::Minimal,
                    Some("standard") => Tier::Standard,
                    Some("strict") => Tier::Strict,
                    Some(_) => {
                        return Err(Error::invalid(
                            "tier",
                            "must be minimal, standard or strict",
                        ));
                    }
                };
                serde_json::to_value(app.seed.plan(&languages, task, tier)).map_err(Error::internal)
            }
            "seed_get" => {
                let id = args.get("id").and_then(Value::as_str).unwrap_or("");
                let f = app
                    .seed
                    .get(id)
                    .ok_or_else(|| Error::not_found(format!("seed file {id}")))?;
                Ok(f.to_full_json())
            }
            "list_services" => Ok(json!({
                "services": app.catalog.all().map(|m| m.summary_json()).collect::<Vec<_>>(),
                "armed": app.config.terraform.is_some(),
            })),
            "get_service" => {
                let id = str_arg(&args, "service");
                let m = app.catalog.get(id).ok_or_else(|| Error::NotFound {
                    what: format!("service {id}"),
                    hint: "call list_services for the catalog".into(),
                })?;
                Ok(m.to_json())
            }
            "request_resource" => {
                let id = target_project(p, &args)?;
                let n = request::NewRequest {
                    project_id: &id,
                    service: str_arg(&args, "service"),
                    name: str_arg(&args, "name"),
                    spec: args.get("spec"),
                };
                request::request_resource(app, p, n).await
            }
            "get_request" => query::get_request(app, p, str_arg(&args, "request_id")).await,
            "list_requests" => {
                let id = target_project(p, &args)?;
                let state = args.get("state").and_then(Value::as_str);
                let limit = args.get("limit").and_then(Value::as_i64).unwrap_or(50);
                let cursor = args.get("cursor").and_then(Value::as_str);
                query::list_requests(app, p, Some(&id), state, limit, cursor).await
            }
            "list_resources" => {
                let id = target_project(p, &args)?;
                let all = args
                    .get("include_destroyed")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                query::list_resources(app, p, &id, all).await
            }
            "get_resource" => {
                let id = target_project(p, &args)?;
                let service = args.get("service").and_then(Value::as_str);
                Ok(
                    query::get_resource(app, p, &id, str_arg(&args, "resource"), service)
                        .await?
                        .to_json(),
                )
            }
            "deprovision_resource" => {
                let id = target_project(p, &args)?;
                let service = args.get("service").and_then(Value::as_str);
                let r =
                    query::get_resource(app, p, &id, str_arg(&args, "resource"), service).await?;
                let confirm = args
                    .get("confirm")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                request::deprovision(app, p, &id, &r.id, confirm).await
            }
            "get_secret" => query::get_secret(app, p, str_arg(&args, "secret_ref")).await,
            "list_secrets" => {
                let id = target_project(p, &args)?;
                query::list_secrets(app, p, &id).await
            }
            "project_cost" => {
                let id = target_project(p, &args)?;
                query::project_cost(app, p, &id).await
            }
            _ => Err(Error::not_found(format!("tool {name}"))),
        }
    }
}

fn str_arg<'a>(args: &'a Value, key: &str) -> &'a str {
    args.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `whoami`: who the caller is and, accurately, what that allows. A project
/// key has its project's capabilities, scoped to that one project: the tools
/// that need a person (registering, keys, approvals, tier changes, kill) are
/// out of reach, which an agent should know before it tries.
fn whoami(p: &Principal) -> Value {
    match &p.identity {
        Identity::ProjectKey {
            project_id, prefix, ..
        } => json!({
            "kind": "project_key", "actor": format!("key:{prefix}"), "project_id": project_id,
            "user": null, "role": null,
            "can": [
                format!("read project {project_id}: get_project, promotion_status, project_cost (project_id may be omitted)"),
                "update its description and evidence with update_project",
                "request, follow and deprovision its resources: request_resource, get_request, list_requests, list_resources, get_resource, deprovision_resource (within its budget; some requests wait for a human's approval)",
                "read its secrets: list_secrets, get_secret (every read is audited)",
                "browse the service catalog (list_services, get_service), the groups (list_groups) and agent guidance (seed_list, seed_plan, seed_get)",
            ],
            "cannot": [
                format!("act on any project other than {project_id} (another project_id is refused)"),
                "change the project's name, budget, manager, owner, group or data class (ask its owner or manager)",
                "register projects, mint or revoke keys, approve requests, change the tier, or kill or decommission a project (these need a person: a personal access token or the dashboard)",
            ],
        }),
        Identity::User { user, .. } => {
            let (can, cannot): (Vec<&str>, Vec<&str>) = match user.role {
                crate::auth::Role::Admin => (
                    vec![
                        "everything, across every project: register and update projects, request and deprovision resources, read secrets (audited)",
                    ],
                    vec![],
                ),
                crate::auth::Role::Auditor => (
                    vec![
                        "read every project, request and resource (pass project_id)",
                        "browse the service catalog, the groups and agent guidance (seed_*)",
                    ],
                    vec![
                        "change anything (auditors are read-only)",
                        "read secret values",
                    ],
                ),
                crate::auth::Role::Member => (
                    vec![
                        "register projects with yourself as owner or manager (register_project)",
                        "read and update projects you own or manage, request, follow and deprovision their resources and read their secrets (pass project_id)",
                        "browse the service catalog, the groups and agent guidance (seed_*)",
                    ],
                    vec!["see or act on projects you neither own nor manage"],
                ),
            };
            json!({"kind": "user", "actor": p.actor(), "project_id": null, "user": user, "role": user.role.as_str(), "can": can, "cannot": cannot})
        }
    }
}

fn list_groups(app: &App) -> Value {
    let groups: Vec<Value> = app
        .config
        .file
        .groups
        .iter()
        .filter(|g| g.active)
        .map(
            |g| json!({"key": g.key, "display_name": g.display_name, "cost_center": g.cost_center}),
        )
        .collect();
    json!({"groups": groups, "open_mode": app.config.file.groups.is_empty()})
}

/// The project a call acts on (SPEC §5.2): a key's own project (an explicit
/// `project_id` must match it); a PAT must name one.
fn target_project(p: &Principal, args: &Value) -> Result<String> {
    let given = args
        .get("project_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    match (p.key_project(), given) {
        (Some(own), Some(g)) if g != own => Err(Error::forbidden(
            format!("this key is locked to {own} and cannot act on {g}"),
            "omit project_id, or use a key of that project",
        )),
        (Some(own), _) => Ok(own.to_string()),
        (None, Some(g)) => Ok(g),
        (None, None) => Err(Error::invalid_hint(
            "project_id",
            "is required with a personal access token",
            "pass the project id (proj-YYYY-NNNN)",
        )),
    }
}

fn promotion_status(app: &App, pr: &crate::registry::Project) -> Value {
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

/// Reject unknown arguments and values of the wrong JSON type, naming them.
fn check_args(tool: &Tool, args: &JsonObject) -> Result<()> {
    if let Some(field) = crate::http::extract::nul_path_in(args) {
        return Err(Error::invalid(
            field,
            "must not contain a NUL character (\\u0000)",
        ));
    }
    let props = tool
        .input_schema
        .get("properties")
        .and_then(Value::as_object);
    for (k, v) in args {
        let Some(spec) = props.and_then(|p| p.get(k)) else {
            let allowed: Vec<&String> = props.map(|p| p.keys().collect()).unwrap_or_default();
            return Err(Error::invalid_hint(
                k,
                "unknown argument",
                format!(
                    "allowed arguments: {}",
                    allowed
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let types: Vec<&str> = match spec.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => continue,
        };
        let actual = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        if !types
            .iter()
            .any(|t| *t == actual || (*t == "integer" && v.is_i64()))
        {
            return Err(Error::invalid(
                k,
                format!("must be of type {}, got {actual}", types.join(" or ")),
            ));
        }
    }
    if let Some(req) = tool.input_schema.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !args.contains_key(r) {
                return Err(Error::invalid(r, "is required"));
            }
        }
    }
    Ok(())
}

impl ServerHandler for AsgardMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("asgard", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(tools::all().to_vec()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::find(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResponse, McpError> {
        let Some(tool) = tools::find(&request.name) else {
            return Ok(CallToolResponse::Complete(tool_error(Error::invalid_hint(
                "name",
                format!("unknown tool `{}`", request.name),
                format!(
                    "call tools/list; available: {}",
                    tools::tool_names().join(", ")
                ),
            ))));
        };
        let principal = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Principal>())
            .cloned();
        let Some(p) = principal else {
            return Err(McpError::internal_error(
                "request reached the tool without an authenticated principal",
                None,
            ));
        };
        let args = request.arguments.unwrap_or_default();
        let result = match check_args(tool, &args) {
            Err(e) => Err(e),
            Ok(()) => self.dispatch(&p, &request.name, Value::Object(args)).await,
        };
        Ok(CallToolResponse::Complete(match result {
            Ok(v) => CallToolResult::structured(v),
            Err(e) => tool_error(e),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whoami_for_a_project_key_is_scoped_and_honest() {
        let p = Principal {
            identity: Identity::ProjectKey {
                key_id: "k1".into(),
                prefix: "asg_abcd".into(),
                project_id: "proj-2026-0001".into(),
            },
            request_id: None,
        };
        let w = whoami(&p);
        let text = |k: &str| {
            w[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let (can, cannot) = (text("can"), text("cannot"));
        // What a key really does (SPEC §5.2, §5.3): its project's tools.
        for tool in [
            "get_project",
            "update_project",
            "request_resource",
            "deprovision_resource",
            "get_secret",
            "project_cost",
            "seed_plan",
        ] {
            assert!(can.contains(tool), "`can` should mention {tool}: {can}");
            let def = tools::find(tool).expect("a real tool");
            assert_eq!(def.name, tool);
        }
        assert!(can.contains("proj-2026-0001"), "{can}");
        // And what it does not: other projects, person-only actions.
        for limit in [
            "other than proj-2026-0001",
            "register projects",
            "mint or revoke keys",
        ] {
            assert!(
                cannot.contains(limit),
                "`cannot` should say {limit}: {cannot}"
            );
        }
        let schema = tools::find("whoami")
            .unwrap()
            .output_schema
            .clone()
            .unwrap();
        assert!(schema["properties"].get("cannot").is_some());
    }
}
