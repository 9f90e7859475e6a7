//! What provisioning answers, as types: a resource, a request (with its
//! resource), the lists of both, cost, secrets and run logs. Both doors
//! serialize these, and the same types give the MCP `outputSchema`, so the
//! advertised shape and the answer cannot drift apart.
//!
//! `spec` and `outputs` are stored as JSON text and are free-form (each
//! service has its own inputs and outputs), so they stay JSON objects here.
//! Every schema names a type for every value: the MCP SDK refuses a tool
//! whose `outputSchema` has a bare `true` as a property's schema.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::approver::{self, ApprovalPath};
use super::{RequestKind, RequestState, Resource, ResourceState};
use crate::registry::cents_to_usd;

/// A spec as stored (always an object: see `gate::effective_spec`);
/// `null` should the stored text not be one.
fn spec_of(text: &str) -> Option<Map<String, Value>> {
    serde_json::from_str(text).ok()
}

/// Outputs as stored; `{}` when the stored text is not a JSON object.
fn outputs_of(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap_or_default()
}

/// A resource as callers see it (secret outputs are `secret_ref`s).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResourceView {
    pub resource_id: String,
    pub project_id: String,
    pub service: String,
    pub name: String,
    /// The applied inputs (a change still waiting is `pending_spec`).
    pub spec: Option<Map<String, Value>>,
    pub state: ResourceState,
    pub armed: bool,
    pub cloud: String,
    pub account: Option<String>,
    pub outputs: Map<String, Value>,
    pub estimate_monthly_usd: f64,
    pub suspended: bool,
    pub last_error: Option<String>,
    pub created_by: String,
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
    #[schemars(with = "String")]
    pub updated_at: DateTime<Utc>,
    /// Present only while a change waits, is queued or runs.
    #[serde(flatten)]
    pub pending: Option<PendingChange>,
}

/// A change to a resource that has not applied yet.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PendingChange {
    pub pending_spec: Option<Map<String, Value>>,
    pub pending_request_id: String,
    pub pending_state: RequestState,
}

/// A request as callers see it; `resource` adds what its resource is now.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RequestView {
    pub request_id: String,
    pub resource_id: String,
    pub project_id: String,
    pub kind: RequestKind,
    pub state: RequestState,
    pub needs_approval: bool,
    pub spec: Option<Map<String, Value>>,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub failure_reason: Option<String>,
    pub attempts: i64,
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
    #[schemars(with = "String")]
    pub updated_at: DateTime<Utc>,
    #[schemars(with = "Option<String>")]
    pub started_at: Option<DateTime<Utc>>,
    #[schemars(with = "Option<String>")]
    pub finished_at: Option<DateTime<Utc>>,
    /// What the caller can do next.
    pub next: String,
    #[serde(flatten)]
    pub resource: Option<RequestResource>,
    // The parts below are left out when they do not apply (never `null`),
    // so their schema is the bare type, not required.
    /// Grants naming allowlisted ARNs beyond the project, for the approver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<String>")]
    pub allowlisted_grants: Option<Vec<String>>,
    /// Set on the answer to an ask that repeats one already made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub idempotent: Option<bool>,
    /// What would run, on a replica where provisioning is not armed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "UnarmedPlan")]
    pub plan: Option<UnarmedPlan>,
    /// Why the request waits for an admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub approval_reason: Option<String>,
    /// While it waits for a person: who may approve it, why, and where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "ApprovalPath")]
    pub approval: Option<ApprovalPath>,
}

/// The resource part of a request's answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RequestResource {
    pub service: String,
    pub name: String,
    pub armed: bool,
    pub resource_state: ResourceState,
    pub outputs: Map<String, Value>,
    pub estimate_monthly_usd: f64,
}

/// The plan recorded instead of a run where provisioning is not armed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UnarmedPlan {
    /// Always `false`: nothing was created.
    pub armed: bool,
    pub message: &'static str,
    pub service: String,
    pub module: String,
    /// The effective spec, an object (`gate::effective_spec`).
    #[schemars(with = "Map<String, Value>")]
    pub inputs: Value,
    pub estimate_monthly_usd: f64,
    pub would_need_approval: Option<String>,
}

/// A page of requests, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RequestPage {
    pub requests: Vec<RequestView>,
    /// Pass it back as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// A project's resources.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResourceList {
    pub resources: Vec<ResourceView>,
}

/// A project's budget against what its resources commit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CostReport {
    pub project_id: String,
    pub budget_usd: f64,
    pub budget_set: bool,
    pub committed_monthly_usd: f64,
    /// `null` when the project has no budget.
    pub remaining_monthly_usd: Option<f64>,
    pub resources: Vec<CostLine>,
    pub spend_to_date: SpendToDate,
}

/// One resource's share of the committed estimate.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CostLine {
    pub resource_id: String,
    pub service: String,
    pub name: String,
    pub state: ResourceState,
    pub estimate_monthly_usd: f64,
}

/// Whether actual spend is known (it is not read from billing APIs).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SpendToDate {
    pub measurable: bool,
    pub note: &'static str,
}

/// A secret's value: the one answer that carries one. No `Debug`, and the
/// value is wiped when the answer is dropped.
#[derive(Serialize, JsonSchema)]
pub struct SecretValue {
    pub secret_ref: String,
    pub version: i64,
    pub value: String,
}

impl Drop for SecretValue {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.value);
    }
}

/// A project's secrets: names, refs and versions, never values.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SecretList {
    pub secrets: Vec<SecretEntry>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SecretEntry {
    pub name: String,
    pub secret_ref: String,
    pub version: i64,
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
}

/// A request's Terraform run log, secrets redacted; `null` before a run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunLog {
    pub request_id: String,
    pub log: Option<String>,
}

impl Resource {
    /// The resource as callers see it.
    pub fn view(&self) -> ResourceView {
        ResourceView {
            resource_id: self.id.clone(),
            project_id: self.project_id.clone(),
            service: self.service.clone(),
            name: self.name.clone(),
            spec: spec_of(&self.spec),
            state: self.state,
            armed: self.armed,
            cloud: self.cloud.clone(),
            account: self.account.clone(),
            outputs: outputs_of(&self.outputs),
            estimate_monthly_usd: cents_to_usd(self.estimate_cents),
            suspended: self.suspended,
            last_error: self.last_error.clone(),
            created_by: self.created_by.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            pending: self.pending.as_ref().map(|c| PendingChange {
                pending_spec: spec_of(&c.spec),
                pending_request_id: c.id.clone(),
                pending_state: c.state,
            }),
        }
    }
}

impl super::Request {
    /// The request as agents see it; `resource` adds the resource's outputs
    /// (secrets already replaced by `secret_ref`s).
    pub fn view(&self, resource: Option<&Resource>) -> RequestView {
        RequestView {
            request_id: self.id.clone(),
            resource_id: self.resource_id.clone(),
            project_id: self.project_id.clone(),
            kind: self.kind,
            state: self.state,
            needs_approval: self.needs_approval,
            spec: spec_of(&self.spec),
            requested_by: self.requested_by.clone(),
            decided_by: self.decided_by.clone(),
            decision_reason: self.decision_reason.clone(),
            failure_reason: self.error.clone(),
            attempts: self.attempts,
            created_at: self.created_at,
            updated_at: self.updated_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            next: super::next_hint(self.kind, self.state).to_string(),
            resource: resource.map(|r| RequestResource {
                service: r.service.clone(),
                name: r.name.clone(),
                armed: r.armed,
                resource_state: r.state,
                outputs: outputs_of(&r.outputs),
                estimate_monthly_usd: cents_to_usd(r.estimate_cents),
            }),
            allowlisted_grants: None,
            idempotent: None,
            plan: None,
            // Recorded when asked, so a waiting request says why on every read.
            approval_reason: (self.state == RequestState::PendingApproval)
                .then_some(self.approval_reason.as_deref())
                .flatten()
                .map(|t| super::admission::why_text(&super::admission::parse_recorded(t))),
            approval: approver::path_of(self),
        }
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "view_samples.rs"]
pub mod samples;
