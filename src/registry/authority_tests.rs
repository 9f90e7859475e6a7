//! Who may do what to a project, as a table: read it, change it (authority),
//! write through it as an agent, decommission it. The rules live on
//! `Project` (`visible_to`, `has_authority`, `writable_by`) and in
//! `projects::may_decommission`; both doors call them.

use chrono::Utc;

use super::{Lifecycle, Project};
use crate::auth::{Identity, Principal, Role, UserInfo, Via};
use crate::governance::Classification;

fn project() -> Project {
    Project {
        id: "proj-2026-0001".into(),
        name: "Pilot".into(),
        description: None,
        owner_email: "owner@corp.example".into(),
        manager_email: "mgr@corp.example".into(),
        grp: Some("platform".into()),
        cost_center: None,
        classification: Classification::Poc,
        data_class: "internal".into(),
        budget_cents: 0,
        lifecycle: Lifecycle::Active,
        killed: false,
        killed_reason: None,
        review_date: None,
        review_state: "ok".into(),
        extensions_used: 0,
        evidence: "{}".into(),
        created_by: "user:admin".into(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
    }
}

fn user(role: Role, email: Option<&str>) -> Principal {
    Principal {
        identity: Identity::User {
            user: UserInfo {
                id: "u-1".into(),
                username: "someone".into(),
                email: email.map(str::to_string),
                display_name: None,
                role,
            },
            via: Via::Session,
            credential: None,
        },
        request_id: None,
    }
}

fn key(project_id: &str) -> Principal {
    Principal {
        identity: Identity::ProjectKey {
            key_id: "k-1".into(),
            prefix: "asg_0123abcd".into(),
            project_id: project_id.into(),
        },
        request_id: None,
    }
}

#[test]
fn who_may_do_what() {
    let pr = project();
    // (who, sees it, has authority, writes as an agent, may decommission)
    let cases: [(&str, Principal, bool, bool, bool, bool); 9] = [
        ("admin", user(Role::Admin, None), true, true, true, true),
        (
            "auditor",
            user(Role::Auditor, Some("aud@corp.example")),
            true,
            false,
            false,
            false,
        ),
        (
            "member, owner",
            user(Role::Member, Some("owner@corp.example")),
            true,
            true,
            true,
            true,
        ),
        (
            "member, manager",
            user(Role::Member, Some("mgr@corp.example")),
            true,
            true,
            true,
            false,
        ),
        (
            "member, unrelated",
            user(Role::Member, Some("x@corp.example")),
            false,
            false,
            false,
            false,
        ),
        (
            "member without email",
            user(Role::Member, None),
            false,
            false,
            false,
            false,
        ),
        // An auditor whose email is the owner's reads, but changes nothing.
        (
            "auditor with the owner's email",
            user(Role::Auditor, Some("owner@corp.example")),
            true,
            false,
            false,
            false,
        ),
        ("this project's key", key(&pr.id), true, false, true, false),
        (
            "another project's key",
            key("proj-2026-0002"),
            false,
            false,
            false,
            false,
        ),
    ];
    for (who, p, sees, authority, writes, retires) in cases {
        assert_eq!(pr.visible_to(&p), sees, "{who}: visible_to");
        assert_eq!(pr.has_authority(&p), authority, "{who}: has_authority");
        assert_eq!(pr.writable_by(&p), writes, "{who}: writable_by");
        assert_eq!(
            super::projects::may_decommission(&p, &pr),
            retires,
            "{who}: may_decommission"
        );
    }
}
