//! Who may approve a waiting request, why it waits, and where to approve
//! it: so an agent whose request stalls can tell its human exactly what to
//! do, instead of polling a request that nothing tells anyone about.
//!
//! "Not you" follows `auth::duties`: the requester never decides their own
//! request, and a key's request also excludes whoever minted the key and
//! the project's owner.

use schemars::JsonSchema;
use serde::Serialize;

use super::admission::{self, ApprovalReason};
use super::{Provisioner, Request, RequestState, RequestView};

/// The role that decides approvals.
pub const APPROVER_ROLE: &str = "admin";

/// How a waiting request gets decided.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ApprovalPath {
    /// The role of whoever may approve it: always `admin`.
    pub approver_role: &'static str,
    /// Who may not, though they hold that role: the requester, and for a
    /// project key's request the key's minter and the project's owner.
    pub not: Vec<String>,
    /// Why it waits, for people (the reasons' messages).
    pub why: String,
    /// Why it waits: the admission rule's reasons, as recorded when asked
    /// (`code` is stable).
    pub reasons: Vec<ApprovalReason>,
    /// The request's page on the dashboard (`ASGARD_PUBLIC_URL` +
    /// `/requests/{id}`); `null` when no public URL is configured.
    pub url: Option<String>,
    /// The REST route that approves it (`POST`, with an optional reason).
    pub route: String,
    /// The REST route that rejects it (`POST`, a reason required).
    pub reject_route: String,
}

/// The parts of `ApprovalPath` that the request alone says (no URL yet).
pub fn path_of(r: &Request) -> Option<ApprovalPath> {
    if r.state != RequestState::PendingApproval {
        return None;
    }
    let mut not = vec![format!("{} (the requester)", r.requested_by)];
    if let Some(prefix) = r.requested_by.strip_prefix("key:") {
        not.push(format!("whoever minted the project key {prefix}"));
        not.push(format!("the owner of project {}", r.project_id));
    }
    let reasons = r
        .approval_reason
        .as_deref()
        .map(admission::parse_recorded)
        .unwrap_or_default();
    Some(ApprovalPath {
        approver_role: APPROVER_ROLE,
        not,
        why: admission::why_text(&reasons),
        reasons,
        url: None,
        route: format!("/api/requests/{}/approve", r.id),
        reject_route: format!("/api/requests/{}/reject", r.id),
    })
}

/// The dashboard page of a request under the public URL.
pub fn dashboard_url(public_url: Option<&str>, request_id: &str) -> Option<String> {
    public_url.map(|u| format!("{}/requests/{request_id}", u.trim_end_matches('/')))
}

/// Fill in where a waiting request is approved: the dashboard URL, and a
/// `next` hint that names the route and the URL.
pub fn annotate(pv: Provisioner<'_>, v: &mut RequestView) {
    locate(pv.config.public_url.as_deref(), v);
}

pub fn locate(public_url: Option<&str>, v: &mut RequestView) {
    let Some(a) = v.approval.as_mut() else {
        return;
    };
    a.url = dashboard_url(public_url, &v.request_id);
    v.next = format!(
        "an {} other than {} must approve this request: POST {}{}; tell your human, then poll get_request",
        a.approver_role,
        a.not.join(", "),
        a.route,
        a.url
            .as_deref()
            .map(|u| format!(" or open {u}"))
            .unwrap_or_default(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provisioning::RequestKind;
    use crate::provisioning::view::samples;

    #[test]
    fn who_why_and_where() {
        let mut r = samples::request(RequestKind::Create, RequestState::PendingApproval);
        r.approval_reason = Some(admission::recorded(&[ApprovalReason {
            code: "service_needs_approval".into(),
            message: "rds-postgres always needs an admin's approval".into(),
        }]));
        let mut v = r.view(None);
        locate(Some("https://asgard.example.com/"), &mut v);
        let a = v.approval.as_ref().unwrap();
        assert_eq!(a.approver_role, "admin");
        assert_eq!(
            a.not,
            [
                "key:agent (the requester)",
                "whoever minted the project key agent",
                "the owner of project proj-2026-0001"
            ]
        );
        assert_eq!(a.route, "/api/requests/req-1/approve");
        assert_eq!(
            a.url.as_deref(),
            Some("https://asgard.example.com/requests/req-1")
        );
        assert_eq!(a.why, "rds-postgres always needs an admin's approval");
        assert_eq!(a.reasons[0].code, "service_needs_approval");
        assert_eq!(v.approval_reason.as_deref(), Some(a.why.as_str()));
        assert!(v.next.contains("/api/requests/req-1/approve"), "{}", v.next);
        assert!(v.next.contains("https://asgard.example.com/requests/req-1"));

        // A person's request excludes only them; no public URL, no url.
        r.requested_by = "user:ann@corp.example".into();
        let mut v = r.view(None);
        locate(None, &mut v);
        let a = v.approval.as_ref().unwrap();
        assert_eq!(a.not, ["user:ann@corp.example (the requester)"]);
        assert_eq!(a.url, None);

        // Only a waiting request says it.
        for s in [
            RequestState::Queued,
            RequestState::Rejected,
            RequestState::Planned,
        ] {
            let mut v = samples::request(RequestKind::Create, s).view(None);
            locate(Some("https://x.example"), &mut v);
            assert!(v.approval.is_none(), "{s}");
            assert!(!v.next.contains("/approve"), "{s}: {}", v.next);
        }
    }
}
