//! The tool catalog, declared once: each tool is one `Entry` holding its
//! name (a contract agents and docs rely on), when to use it, its output
//! schema, and a handler whose typed argument struct produces the
//! `inputSchema` and parses the call. `tools/list` and `tools/call` both read
//! this one table, so a tool cannot be listed without dispatching or the
//! other way round. The order of `tools/list` is the order of the areas
//! below: stable, roughly the order an agent needs them.

mod governance;
mod identity;
mod projects;
mod provisioning;
mod seed;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use rmcp::model::{CallToolResult, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::tool_error;
use crate::app::App;
use crate::auth::Principal;
use crate::edge::schema;
use crate::error::{Error, Result};

pub(super) use identity::whoami_subject;

/// The shared description of `project_id`.
pub(super) const PROJECT_ID: &str = "Project id (proj-YYYY-NNNN). Optional with a project key (must match it); required with a personal access token.";

/// What a handler's future resolves to: the tool's structured answer.
pub(super) type Reply<'a> = Pin<Box<dyn Future<Output = Result<Value>> + Send + 'a>>;

/// A handler over typed arguments.
type Handler<A> = for<'a> fn(&'a App, &'a Principal, A) -> Reply<'a>;

/// A handler with its argument parsing folded in.
type Run = Box<dyn for<'a> Fn(&'a App, &'a Principal, JsonObject) -> Reply<'a> + Send + Sync>;

/// What `tools/list` says about a tool, besides its input schema.
pub(super) struct Meta {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub output: Value,
    pub read_only: bool,
    pub destructive: bool,
}

/// What a body's owner does around the schema check: `prepare` the raw
/// arguments (e.g. trim), and `refine` a refusal (e.g. name the field, not
/// the list item).
pub(super) struct Body {
    pub prepare: fn(&mut JsonObject),
    pub refine: fn(Error) -> Error,
}

impl Body {
    fn plain() -> Body {
        Body {
            prepare: |_| {},
            refine: |e| e,
        }
    }
}

pub(super) struct Entry {
    tool: Tool,
    run: Run,
    /// The answer depends on nothing but the caller's identity (see
    /// `whoami_subject`), so it may be memoised per identity.
    by_identity: bool,
}

impl Entry {
    /// A tool whose arguments are `A`: `A`'s JSON Schema is the advertised
    /// `inputSchema`, and a call's arguments are checked against that same
    /// schema (every advertised limit) before they are parsed into `A`.
    pub(super) fn new<A>(meta: Meta, handler: Handler<A>) -> Entry
    where
        A: DeserializeOwned + JsonSchema + 'static,
    {
        Entry::with_body(meta, Body::plain(), handler)
    }

    /// A tool whose arguments get the domain's own preparation around the
    /// schema check (see `Body`).
    pub(super) fn with_body<A>(meta: Meta, body: Body, handler: Handler<A>) -> Entry
    where
        A: DeserializeOwned + JsonSchema + 'static,
    {
        let input = schema::schema_for::<A>();
        let schema = input.clone();
        let run: Run = Box::new(move |app, p, mut raw| {
            (body.prepare)(&mut raw);
            match schema::parse::<A>(&schema, raw).map_err(body.refine) {
                Ok(a) => handler(app, p, a),
                Err(e) => Box::pin(std::future::ready(Err(e))),
            }
        });
        let mut ann = ToolAnnotations::new();
        ann.title = Some(meta.title.to_string());
        ann.read_only_hint = Some(meta.read_only);
        ann.destructive_hint = Some(meta.destructive);
        ann.open_world_hint = Some(false);
        let Value::Object(output) = meta.output else {
            unreachable!("output schemas are objects")
        };
        let tool = Tool::new(meta.name, meta.description, input)
            .with_title(meta.title)
            .with_raw_output_schema(Arc::new(output))
            .with_annotations(ann);
        Entry {
            tool,
            run,
            by_identity: false,
        }
    }

    /// Mark the answer as a pure function of `whoami_subject`.
    fn by_identity(mut self) -> Entry {
        self.by_identity = true;
        self
    }

    pub(super) fn tool(&self) -> &Tool {
        &self.tool
    }

    pub(super) fn answers_by_identity(&self) -> bool {
        self.by_identity
    }

    /// Run the call: arguments checked and parsed, then the handler. Domain
    /// errors become `isError` results; nothing here is a JSON-RPC error.
    pub(super) async fn call(&self, app: &App, p: &Principal, args: JsonObject) -> CallToolResult {
        match (self.run)(app, p, args).await {
            Ok(v) => CallToolResult::structured(v),
            Err(e) => tool_error(e),
        }
    }
}

fn build() -> Vec<Entry> {
    let mut all = identity::entries();
    all.extend(projects::entries());
    all.extend(provisioning::entries());
    all.extend(governance::entries());
    all.extend(seed::entries());
    all
}

fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(build)
}

/// Every tool, in `tools/list` order.
pub fn all() -> Vec<Tool> {
    table().iter().map(|e| e.tool.clone()).collect()
}

pub(super) fn find(name: &str) -> Option<&'static Entry> {
    table().iter().find(|e| e.tool.name == name)
}

pub fn tool_names() -> Vec<&'static str> {
    table().iter().map(|e| e.tool.name.as_ref()).collect()
}

/// The answer to a call of a tool that is not in the table.
pub(super) fn unknown_tool(name: &str) -> CallToolResult {
    tool_error(Error::invalid_hint(
        "name",
        format!("unknown tool `{name}`"),
        format!("call tools/list; available: {}", tool_names().join(", ")),
    ))
}

/// `tools/call`: the one dispatch, for the SDK path and the direct one.
pub(super) async fn call(app: &App, p: &Principal, name: &str, args: JsonObject) -> CallToolResult {
    match find(name) {
        Some(e) => e.call(app, p, args).await,
        None => unknown_tool(name),
    }
}

/// The project a call acts on: a key's own project (an explicit
/// `project_id` must match it); a PAT must name one.
pub(super) fn target_project(p: &Principal, given: Option<String>) -> Result<String> {
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

/// Serialize a domain answer into the tool's structured result.
pub(super) fn to_value(v: impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(v).map_err(Error::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The names, in order, that agents and docs/mcp.md rely on.
    const LISTED: [&str; 22] = [
        "whoami",
        "list_groups",
        "register_project",
        "get_project",
        "update_project",
        "list_services",
        "get_service",
        "request_resource",
        "get_request",
        "list_requests",
        "list_resources",
        "get_resource",
        "deprovision_resource",
        "get_secret",
        "list_secrets",
        "project_cost",
        "promotion_status",
        "request_promotion",
        "governance_metrics",
        "seed_list",
        "seed_plan",
        "seed_get",
    ];

    #[test]
    fn catalog_is_well_formed() {
        assert_eq!(tool_names(), LISTED);
        for t in all() {
            assert_eq!(
                t.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                t.name
            );
            assert_eq!(
                t.input_schema.get("additionalProperties"),
                Some(&json!(false)),
                "{}: unknown arguments must be refused",
                t.name
            );
            assert!(t.input_schema.get("properties").is_some(), "{}", t.name);
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

    /// Listing and dispatch are one table: every listed name finds its own
    /// entry, and no entry is reachable under a name `tools/list` lacks.
    #[test]
    fn every_listed_tool_dispatches_and_every_dispatched_tool_is_listed() {
        let listed = tool_names();
        for name in &listed {
            let e = find(name).expect("a listed tool dispatches");
            assert_eq!(e.tool().name, *name);
        }
        for e in table() {
            assert!(listed.contains(&e.tool().name.as_ref()));
        }
        let mut unique = listed.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), listed.len(), "tool names are unique");
        assert!(find("drop_database").is_none());
        // Only whoami is memoised by identity: any other tool reads data.
        let memo: Vec<&str> = table()
            .iter()
            .filter(|e| e.answers_by_identity())
            .map(|e| e.tool().name.as_ref())
            .collect();
        assert_eq!(memo, ["whoami"]);
    }
}
