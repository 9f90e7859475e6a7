//! Tool definitions for the catalog and provisioning: services, requests,
//! resources, secrets and cost.

use serde_json::{Value, json};

use super::tools::{Def, PROJECT_ID};

fn pid() -> Value {
    json!({"type": "string", "description": PROJECT_ID})
}

fn request_out() -> Value {
    json!({"type": "object", "properties": {
        "request_id": {"type": "string"}, "resource_id": {"type": "string"}, "project_id": {"type": "string"},
        "kind": {"type": "string"}, "state": {"type": "string"}, "needs_approval": {"type": "boolean"},
        "armed": {"type": "boolean"}, "outputs": {"type": "object"}, "failure_reason": {"type": ["string", "null"]},
        "estimate_monthly_usd": {"type": "number"}, "plan": {"type": "object"}, "next": {"type": "string"},
        "allowlisted_grants": {"type": "array", "items": {"type": "string"}}
    }, "required": ["request_id", "resource_id", "state", "needs_approval"]})
}

fn resource_out() -> Value {
    json!({"type": "object", "properties": {
        "resource_id": {"type": "string"}, "service": {"type": "string"}, "name": {"type": "string"},
        "state": {"type": "string"}, "outputs": {"type": "object"}, "spec": {"type": "object"},
        "armed": {"type": "boolean"}, "estimate_monthly_usd": {"type": "number"}
    }, "required": ["resource_id", "service", "name", "state"]})
}

fn none() -> Value {
    json!({"type": "object", "properties": {}, "additionalProperties": false})
}

fn def(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    input: Value,
    output: Value,
    read_only: bool,
    destructive: bool,
) -> Def {
    Def {
        name,
        title,
        description,
        input,
        output,
        read_only,
        destructive,
    }
}

pub(super) fn defs() -> Vec<Def> {
    vec![
        def(
            "list_services",
            "List provisionable services",
            "Lists the service catalog: what you can request with request_resource (id, category, cloud, estimate, whether it is auto-approved, tier range). Next: get_service for its input schema.",
            none(),
            json!({"type": "object", "properties": {"services": {"type": "array", "items": {"type": "object"}}, "armed": {"type": "boolean"}}, "required": ["services", "armed"]}),
            true,
            false,
        ),
        def(
            "get_service",
            "Get a service",
            "Returns one service: the JSON Schema of its `spec` inputs, operator-locked inputs, its outputs (secret ones marked), approval rule and estimate. Use it to build the spec for request_resource.",
            json!({"type": "object", "properties": {"service": {"type": "string"}}, "required": ["service"], "additionalProperties": false}),
            json!({"type": "object", "properties": {"id": {"type": "string"}, "inputs": {"type": "object"}, "outputs": {"type": "object"}}, "required": ["id", "inputs", "outputs"]}),
            true,
            false,
        ),
        def(
            "request_resource",
            "Request a resource",
            "Asks Asgard to provision (or update) a resource for the project through its service's Terraform module. Returns at once with a request: `queued`, `pending_approval` (an admin must approve) or `planned` (provisioning not armed; nothing created). The same ask twice returns the existing resource. Next: poll get_request until fulfilled or failed; secret outputs come back as secret_ref for get_secret.",
            json!({"type": "object", "properties": {
                "project_id": pid(),
                "service": {"type": "string", "description": "A service id from list_services."},
                "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]{1,40}$", "description": "The resource's name within the project."},
                "spec": {"type": "object", "description": "Inputs per the service's schema (get_service)."}
            }, "required": ["service", "name"], "additionalProperties": false}),
            request_out(),
            false,
            false,
        ),
        def(
            "get_request",
            "Follow a request",
            "Returns a request's state (queued, running, fulfilled, failed, pending_approval, rejected, planned), the failure reason, and the resource's outputs with secrets as secret_ref.",
            json!({"type": "object", "properties": {"request_id": {"type": "string"}}, "required": ["request_id"], "additionalProperties": false}),
            request_out(),
            true,
            false,
        ),
        def(
            "list_requests",
            "List requests",
            "Lists the project's requests, newest first, optionally by state, a page at a time: pass next_cursor back as cursor for the next page (null when there is none).",
            json!({"type": "object", "properties": {"project_id": pid(), "state": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                "cursor": {"type": "string", "description": "next_cursor of the previous page."}}, "additionalProperties": false}),
            json!({"type": "object", "properties": {"requests": {"type": "array", "items": {"type": "object"}},
                "next_cursor": {"type": ["string", "null"]}}, "required": ["requests", "next_cursor"]}),
            true,
            false,
        ),
        def(
            "list_resources",
            "List resources",
            "Lists the project's resources with their state and outputs (secrets as secret_ref).",
            json!({"type": "object", "properties": {"project_id": pid(), "include_destroyed": {"type": "boolean"}}, "additionalProperties": false}),
            json!({"type": "object", "properties": {"resources": {"type": "array", "items": {"type": "object"}}}, "required": ["resources"]}),
            true,
            false,
        ),
        def(
            "get_resource",
            "Get a resource",
            "Returns one resource (by id, or by name plus service): state, the applied spec, a change still waiting as pending_spec, outputs with secrets as secret_ref. A name two services share is refused with the candidates.",
            json!({"type": "object", "properties": {"project_id": pid(), "resource": {"type": "string", "description": "Resource id, or name."}, "service": service_arg()}, "required": ["resource"], "additionalProperties": false}),
            resource_out(),
            true,
            false,
        ),
        def(
            "deprovision_resource",
            "Destroy a resource",
            "Destroys a resource (by id, or by name plus service) through Terraform and deletes its secrets; the record stays as `destroyed`. Data-bearing resources (databases, buckets) need confirm: true. Returns a request to follow with get_request.",
            json!({"type": "object", "properties": {"project_id": pid(), "resource": {"type": "string", "description": "Resource id, or name."}, "service": service_arg(), "confirm": {"type": "boolean", "default": false}}, "required": ["resource"], "additionalProperties": false}),
            request_out(),
            false,
            true,
        ),
        def(
            "get_secret",
            "Read a secret",
            "Returns the value behind a secret_ref of your project (e.g. a generated password). Use it at runtime; never write the value into code, logs, commits or messages. Every read is audited.",
            json!({"type": "object", "properties": {"secret_ref": {"type": "string", "description": "asgard://secrets/<project>/<service>/<resource>/<output>"}}, "required": ["secret_ref"], "additionalProperties": false}),
            json!({"type": "object", "properties": {"secret_ref": {"type": "string"}, "version": {"type": "integer"}, "value": {"type": "string"}}, "required": ["secret_ref", "value"]}),
            true,
            false,
        ),
        def(
            "list_secrets",
            "List secrets",
            "Lists the project's secrets: names, refs, versions — never values.",
            json!({"type": "object", "properties": {"project_id": pid()}, "additionalProperties": false}),
            json!({"type": "object", "properties": {"secrets": {"type": "array", "items": {"type": "object"}}}, "required": ["secrets"]}),
            true,
            false,
        ),
        def(
            "project_cost",
            "Project cost",
            "Returns the project's monthly budget, the committed monthly estimate of its resources, and a per-resource breakdown. Check it before requesting something expensive.",
            json!({"type": "object", "properties": {"project_id": pid()}, "additionalProperties": false}),
            json!({"type": "object", "properties": {"project_id": {"type": "string"}, "budget_usd": {"type": "number"}, "committed_monthly_usd": {"type": "number"}, "resources": {"type": "array"}}, "required": ["project_id", "budget_usd", "committed_monthly_usd"]}),
            true,
            false,
        ),
    ]
}

/// The optional service that narrows a resource name.
fn service_arg() -> Value {
    json!({"type": "string", "description": "Service id (e.g. ecr-repository); needed with a name that resources of two services share."})
}
