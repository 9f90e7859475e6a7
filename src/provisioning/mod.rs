//! Provisioning: resources and the requests that change them. A
//! request is a row; workers on every replica claim queued rows, take the
//! resource's lease, and run Terraform through the one runner. The request
//! path never runs Terraform inline. State moves only by compare-and-set.
//!
//! Request states: `planned` (unarmed, nothing created), `pending_approval →
//! queued → running → fulfilled | failed`, `rejected`. Teardown requests use
//! the same states; their resource ends `destroyed` or `destroy_failed`.

pub mod admission;
pub mod approver;
pub mod ask;
pub mod backend;
#[cfg(test)]
mod claim_tests;
pub mod estimate;
pub mod gate;
#[cfg(test)]
mod gate_tests;
pub mod grants;
pub mod history;
pub mod hooks;
pub mod inbox;
pub mod lifecycle;
pub mod offer;
pub mod outputs;
pub mod query;
pub mod request;
pub mod rollup;
pub mod runner;
pub mod state;
pub mod view;
pub mod worker;

use chrono::{DateTime, Utc};
pub use state::{RequestKind, RequestState, ResourceState};
pub use view::{RequestView, ResourceView};

/// What the provisioning use cases need, and nothing more: the store, the
/// policy read from configuration, the service catalog, the workers' wake-up
/// and the ciphers derived once at boot.
#[derive(Clone, Copy)]
pub struct Provisioner<'a> {
    pub store: &'a crate::store::Store,
    pub config: &'a crate::config::Config,
    pub catalog: &'a crate::catalog::Catalog,
    /// Wakes the workers when a request is queued.
    pub work: &'a tokio::sync::Notify,
    /// Seals and opens Terraform run logs.
    pub run_logs: &'a crate::secrets::Cipher,
    pub secrets: crate::secrets::store::SecretStore<'a>,
    /// Projects are read through the registry.
    pub registry: crate::registry::Registry<'a>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Resource {
    pub id: String,
    pub project_id: String,
    pub service: String,
    pub name: String,
    pub spec: String,
    pub state: ResourceState,
    pub armed: bool,
    pub cloud: String,
    pub account: Option<String>,
    pub outputs: String,
    pub estimate_cents: i64,
    pub suspended: bool,
    pub last_error: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// A change still waiting, queued or running, when the reader asked for
    /// it: `spec` above stays what is applied until that change applies.
    #[sqlx(skip)]
    pub pending: Option<Request>,
}

pub const RESOURCE_COLS: &str = "id, project_id, service, name, spec, state, armed, cloud, account, outputs, estimate_cents, suspended, last_error, created_by, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Request {
    pub id: String,
    pub resource_id: String,
    pub project_id: String,
    pub kind: RequestKind,
    pub spec: String,
    pub state: RequestState,
    pub needs_approval: bool,
    pub requested_by: String,
    /// The user behind `requested_by`, when a person asked (not a key).
    pub requested_by_user_id: Option<String>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub claimed_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it waited (or waits) for a person, when it did.
    pub approval_reason: Option<String>,
}

pub const REQUEST_COLS: &str = "id, resource_id, project_id, kind, spec, state, needs_approval, requested_by, requested_by_user_id, decided_by, decision_reason, error, attempts, claimed_by, created_at, updated_at, started_at, finished_at, approval_reason";

/// What the caller can do next, for this kind of request in this state.
fn next_hint(kind: RequestKind, state: RequestState) -> &'static str {
    match (state, kind) {
        (RequestState::Planned, _) => {
            "provisioning is not armed here: nothing was created; ask an operator to arm it, then request again"
        }
        (RequestState::PendingApproval, _) => {
            "an admin other than the requester must approve this request; poll get_request"
        }
        (RequestState::Queued | RequestState::Running, _) => {
            "poll get_request every few seconds until fulfilled or failed"
        }
        (RequestState::Fulfilled, RequestKind::Destroy) => {
            "the resource is destroyed and its secrets deleted; nothing more to do"
        }
        (RequestState::Fulfilled, RequestKind::Suspend) => {
            "the resource is suspended while the project is killed; unkilling resumes it"
        }
        (RequestState::Fulfilled, _) => {
            "read outputs; fetch secret values with get_secret at runtime, never copy them into code"
        }
        (RequestState::Failed, RequestKind::Destroy) => {
            "read failure_reason; deprovision the resource again to retry the destroy"
        }
        (RequestState::Failed, _) => "read failure_reason, fix the spec, and request again",
        (RequestState::Rejected, _) => {
            "read decision_reason; change the request or talk to the approver"
        }
    }
}

/// Resource name rule; names become Terraform input, never paths.
pub fn valid_resource_name(n: &str) -> bool {
    let b = n.as_bytes();
    (2..=41).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        for ok in ["db", "asgard", "my-app-2"] {
            assert!(super::valid_resource_name(ok), "{ok}");
        }
        for bad in ["", "a", "../x", "A", "1db", "a_b", "a/b", &"a".repeat(42)] {
            assert!(!super::valid_resource_name(bad), "{bad}");
        }
    }
}
