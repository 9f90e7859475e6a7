//! The catalog and provisioning: services, requests, resources, secrets
//! and cost.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::projects::ProjectRef;
use super::{Entry, Meta, PROJECT_ID, target_project, to_value};
use crate::edge::schema::output_schema;
use crate::error::Error;
use crate::provisioning::ask::ResourceAsk;
use crate::provisioning::inbox::InboxPage as Requests;
use crate::provisioning::offer::{self, ServiceApproval};
use crate::provisioning::view::{
    CostReport, RequestView, ResourceList as Resources, ResourceView, SecretList, SecretValue,
};
use crate::provisioning::{query, request};

/// The optional service that narrows a resource name.
const SERVICE_NARROWS: &str =
    "Service id (e.g. ecr-repository); needed with a name that resources of two services share.";

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ServiceRef {
    service: String,
    /// The project to judge approval for (implied by a project key).
    project_id: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CatalogArgs {
    /// The project to judge approval for (implied by a project key).
    project_id: Option<String>,
}

/// The catalog answers' schema: the listing (or one service) with the
/// typed `approval` of `offer::ServiceApproval` when a project is known.
fn catalog_schema(list: bool) -> serde_json::Value {
    let approval = output_schema::<ServiceApproval>();
    if list {
        json!({"type": "object", "properties": {
            "services": {"type": "array", "items": {"type": "object", "properties": {"approval": approval}}},
            "armed": {"type": "boolean"},
            "project_id": {"type": ["string", "null"]}
        }, "required": ["services", "armed", "project_id"]})
    } else {
        json!({"type": "object", "properties": {
            "id": {"type": "string"}, "inputs": {"type": "object"}, "outputs": {"type": "object"},
            "approval": approval
        }, "required": ["id", "inputs", "outputs"]})
    }
}

/// `request_resource`'s arguments: the ask, and the project it is for
/// (REST takes that from the path). Unknown arguments are refused by the
/// schema check before parsing (serde's own check does not combine with
/// `flatten`), and the schema says so: `additionalProperties: false`.
#[derive(Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
struct AskArgs {
    #[schemars(description = PROJECT_ID)]
    project_id: Option<String>,
    #[serde(flatten)]
    ask: ResourceAsk,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RequestRef {
    request_id: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RequestPage {
    #[schemars(description = PROJECT_ID)]
    project_id: Option<String>,
    state: Option<String>,
    #[schemars(range(min = 1, max = 500), extend("default" = 50))]
    limit: Option<i64>,
    /// next_cursor of the previous page.
    cursor: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ResourceList {
    #[schemars(description = PROJECT_ID)]
    project_id: Option<String>,
    include_destroyed: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ResourceRef {
    #[schemars(description = PROJECT_ID)]
    project_id: Option<String>,
    /// Resource id, or name.
    resource: String,
    #[schemars(description = SERVICE_NARROWS)]
    service: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Teardown {
    #[schemars(description = PROJECT_ID)]
    project_id: Option<String>,
    /// Resource id, or name.
    resource: String,
    #[schemars(description = SERVICE_NARROWS)]
    service: Option<String>,
    #[schemars(extend("default" = false))]
    confirm: Option<bool>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SecretRef {
    /// asgard://secrets/<project>/<service>/<resource>/<output>
    secret_ref: String,
}

pub(super) fn entries() -> Vec<Entry> {
    vec![
        Entry::new(
            Meta {
                name: "list_services",
                title: "List provisionable services",
                description: "Lists the service catalog: what you can request with request_resource (id, category, cloud, estimate, whether it is auto-approvable, tier range). With a project (a project key implies its own; a PAT passes project_id) each service also says, for that project, whether a request would run with no person and if not why (approval: {auto, reasons[]}). Next: get_service for its input schema.",
                output: catalog_schema(true),
                read_only: true,
                destructive: false,
            },
            |app, p, a: CatalogArgs| {
                Box::pin(async move { offer::list(app.provisioner(), p, a.project_id).await })
            },
        ),
        Entry::new(
            Meta {
                name: "get_service",
                title: "Get a service",
                description: "Returns one service: the JSON Schema of its `spec` inputs, operator-locked inputs, its outputs (secret ones marked), approval rule and estimate, and for your project (implied by a project key; project_id with a PAT) whether a request would run with no person and if not why (approval: {auto, reasons[]}). Use it to build the spec for request_resource.",
                output: catalog_schema(false),
                read_only: true,
                destructive: false,
            },
            |app, p, a: ServiceRef| {
                Box::pin(
                    async move { offer::get(app.provisioner(), p, &a.service, a.project_id).await },
                )
            },
        ),
        Entry::new(
            Meta {
                name: "request_resource",
                title: "Request a resource",
                description: "Asks Asgard to provision (or update) a resource for the project through its service's Terraform module. Returns at once with a request: `queued`, `pending_approval` (an admin must approve) or `planned` (provisioning not armed; nothing created). The same ask twice returns the existing resource. Next: poll get_request until fulfilled or failed; secret outputs come back as secret_ref for get_secret.",
                output: output_schema::<RequestView>(),
                read_only: false,
                destructive: false,
            },
            |app, p, a: AskArgs| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    request::request_resource(app.provisioner(), p, &id, &a.ask)
                        .await
                        .and_then(|a| to_value(a.into_body()))
                })
            },
        ),
        Entry::new(
            Meta {
                name: "get_request",
                title: "Follow a request",
                description: "Returns a request's state (queued, running, fulfilled, failed, pending_approval, rejected, planned), the failure reason, and the resource's outputs with secrets as secret_ref.",
                output: output_schema::<RequestView>(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: RequestRef| {
                Box::pin(async move {
                    if crate::registry::governance::is_governance_id(&a.request_id) {
                        return Err(Error::invalid_hint(
                            "request_id",
                            "is a governance request (a promotion or a review extension), not a provisioning request",
                            "follow a promotion with promotion_status; over REST, GET /api/requests/{id} reads either kind",
                        ));
                    }
                    to_value(query::get_request(app.provisioner(), p, &a.request_id).await?)
                })
            },
        ),
        Entry::new(
            Meta {
                name: "list_requests",
                title: "List requests",
                description: "Lists the project's requests, newest first, optionally by state, a page at a time: pass next_cursor back as cursor for the next page (null when there is none). Provisioning requests (type provisioning, req-…) and promotions or review extensions (type governance, gov-…) are listed together.",
                output: output_schema::<Requests>(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: RequestPage| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    let limit = a.limit.unwrap_or(50);
                    to_value(
                        query::list_requests(
                            app.provisioner(),
                            p,
                            Some(&id),
                            a.state.as_deref(),
                            limit,
                            a.cursor.as_deref(),
                        )
                        .await?,
                    )
                })
            },
        ),
        Entry::new(
            Meta {
                name: "list_resources",
                title: "List resources",
                description: "Lists the project's resources with their state and outputs (secrets as secret_ref).",
                output: output_schema::<Resources>(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: ResourceList| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    to_value(
                        query::list_resources(
                            app.provisioner(),
                            p,
                            &id,
                            a.include_destroyed.unwrap_or(false),
                        )
                        .await?,
                    )
                })
            },
        ),
        Entry::new(
            Meta {
                name: "get_resource",
                title: "Get a resource",
                description: "Returns one resource (by id, or by name plus service): state, the applied spec, a change still waiting as pending_spec, outputs with secrets as secret_ref. A name two services share is refused with the candidates.",
                output: output_schema::<ResourceView>(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: ResourceRef| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    let r = query::get_resource(
                        app.provisioner(),
                        p,
                        &id,
                        &a.resource,
                        a.service.as_deref(),
                    )
                    .await?;
                    to_value(r.view())
                })
            },
        ),
        Entry::new(
            Meta {
                name: "deprovision_resource",
                title: "Destroy a resource",
                description: "Destroys a resource (by id, or by name plus service) through Terraform and deletes its secrets; the record stays as `destroyed`. Data-bearing resources (databases, buckets) need confirm: true. Returns a request to follow with get_request.",
                output: output_schema::<RequestView>(),
                read_only: false,
                destructive: true,
            },
            |app, p, a: Teardown| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    let r = query::get_resource(
                        app.provisioner(),
                        p,
                        &id,
                        &a.resource,
                        a.service.as_deref(),
                    )
                    .await?;
                    to_value(
                        request::deprovision(
                            app.provisioner(),
                            p,
                            &id,
                            &r.id,
                            a.confirm.unwrap_or(false),
                        )
                        .await?,
                    )
                })
            },
        ),
        Entry::new(
            Meta {
                name: "get_secret",
                title: "Read a secret",
                description: "Returns the value behind a secret_ref of your project (e.g. a generated password). Use it at runtime; never write the value into code, logs, commits or messages. Every read is audited.",
                output: output_schema::<SecretValue>(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: SecretRef| {
                Box::pin(async move {
                    to_value(query::get_secret(app.provisioner(), p, &a.secret_ref).await?)
                })
            },
        ),
        Entry::new(
            Meta {
                name: "list_secrets",
                title: "List secrets",
                description: "Lists the project's secrets: names, refs, versions — never values.",
                output: output_schema::<SecretList>(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: ProjectRef| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    to_value(query::list_secrets(app.provisioner(), p, &id).await?)
                })
            },
        ),
        Entry::new(
            Meta {
                name: "project_cost",
                title: "Project cost",
                description: "Returns the project's monthly budget, the committed monthly estimate of its resources, and a per-resource breakdown. Check it before requesting something expensive.",
                output: output_schema::<CostReport>(),
                read_only: true,
                destructive: false,
            },
            |app, p, a: ProjectRef| {
                Box::pin(async move {
                    let id = target_project(p, a.project_id)?;
                    to_value(query::project_cost(app.provisioner(), p, &id).await?)
                })
            },
        ),
    ]
}

#[cfg(test)]
#[path = "provisioning_tests.rs"]
mod tests;

#[cfg(test)]
mod ask_tests {
    use super::*;
    use crate::edge::schema::schema_for;
    use serde_json::Value;

    /// The tool advertises what it advertised before the ask became the
    /// domain's type: the ask's fields, and `project_id` beside them.
    #[test]
    fn request_resource_arguments() {
        let s = Value::Object((*schema_for::<AskArgs>()).clone());
        let name = json!({"description": "The resource's name within the project.", "pattern": crate::provisioning::ask::NAME_PATTERN, "type": "string"});
        assert_eq!(
            s,
            json!({"additionalProperties": false, "type": "object", "required": ["service", "name"], "properties": {
                "name": name,
                "project_id": {"description": PROJECT_ID, "type": "string"},
                "service": {"description": "A service id from list_services.", "type": "string"},
                "spec": {"description": "Inputs per the service's schema (get_service).", "type": "object"}
            }})
        );
    }

    /// What the tool refuses, and the field it names.
    #[test]
    fn request_resource_refusals_name_the_field() {
        use crate::edge::schema::parse;
        let field_of = |args: Value| {
            let Value::Object(raw) = args else { panic!() };
            match parse::<AskArgs>(&schema_for::<AskArgs>(), raw) {
                Ok(_) => "ok".to_string(),
                Err(e) => e.field().unwrap_or("?").to_string(),
            }
        };
        for (args, field) in [
            (json!({"service": "demo-token", "name": "tok"}), "ok"),
            (
                json!({"project_id": "proj-2026-0001", "service": "s", "name": "tok", "spec": {"a": 1}}),
                "ok",
            ),
            (json!({"name": "tok"}), "service"),
            (json!({"service": "demo-token"}), "name"),
            (json!({"service": "demo-token", "name": "../x"}), "name"),
            (json!({"service": "demo-token", "name": "Upper"}), "name"),
            (json!({"service": 7, "name": "tok"}), "service"),
            (
                json!({"service": "s", "name": "tok", "project_id": 5}),
                "project_id",
            ),
            (json!({"service": "s", "name": "tok", "spec": [1]}), "spec"),
            (json!({"service": "s", "name": "tok", "spec": null}), "spec"),
            (json!({"service": "s", "name": "tok", "bogus": 1}), "bogus"),
        ] {
            assert_eq!(field_of(args.clone()), field, "{args}");
        }
    }
}

/// The ask's own contract (its type lives in the domain, which does not
/// import the schema check, so the check of it lives here).
#[cfg(test)]
mod ask_contract_tests {
    use super::*;
    use crate::edge::schema::{parse, schema_for};
    use crate::provisioning::ask::NAME_PATTERN;
    use serde_json::{Value, json};

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
