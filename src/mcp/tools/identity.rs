//! Who the caller is (`whoami`) and where a project may be registered
//! (`list_groups`).

use serde_json::{Value, json};

use super::{Entry, Meta, to_value};
use crate::auth::{Identity, Principal, Role, UserInfo};
use crate::edge::schema::{NoArgs, output_schema};
use crate::error::Result;
use crate::registry::{Groups, groups};

pub(super) fn entries() -> Vec<Entry> {
    vec![
        Entry::new(
            Meta {
                name: "whoami",
                title: "Who am I",
                description: "Start here. Returns who you are acting as (a project key or a user's personal access token), the project a key is locked to, what you may do (`can`) and what you may not (`cannot`). A project key acts only on its own project. Next: seed_plan for guidance, or get_project.",
                output: json!({"type": "object", "properties": {
                    "kind": {"type": "string", "enum": ["project_key", "user"]},
                    "actor": {"type": "string"}, "project_id": {"type": ["string", "null"]},
                    "user": {"type": ["object", "null"]}, "role": {"type": ["string", "null"]},
                    "can": {"type": "array", "items": {"type": "string"}, "description": "What this credential may do, naming the tools."},
                    "cannot": {"type": "array", "items": {"type": "string"}, "description": "What it may not do (and who can)."}
                }, "required": ["kind", "actor", "can", "cannot"]}),
                read_only: true,
                destructive: false,
            },
            |_, p, NoArgs {}| Box::pin(async move { Ok(whoami(&Subject::of(p))) }),
        )
        .by_identity(),
        Entry::new(
            Meta {
                name: "list_groups",
                title: "List registrable groups",
                description: "Lists the groups a project may register under, with their cost centers. Use before register_project to pick `group`.",
                output: output_schema::<Groups<'static>>(),
                read_only: true,
                destructive: false,
            },
            |app, _, NoArgs {}| Box::pin(async move { to_value(groups(&app.config)) }),
        ),
    ]
}

/// The part of a caller that `whoami` describes. Nothing else (the key or
/// session id, the request id, an expiry) reaches the answer, which is what
/// lets the MCP door memoise it under `whoami_subject`.
enum Subject<'a> {
    Key {
        prefix: &'a str,
        project_id: &'a str,
    },
    User {
        user: &'a UserInfo,
        actor: String,
    },
}

impl<'a> Subject<'a> {
    fn of(p: &'a Principal) -> Subject<'a> {
        match &p.identity {
            Identity::ProjectKey {
                prefix, project_id, ..
            } => Subject::Key { prefix, project_id },
            Identity::User { user, .. } => Subject::User {
                user,
                actor: p.actor(),
            },
        }
    }
}

/// A key that determines `whoami`'s answer completely: two callers with
/// the same key get the same bytes. A revoked credential never gets this
/// far (authentication refuses it first), and a changed role, email or
/// name is a different key.
pub(in crate::mcp) fn whoami_subject(p: &Principal) -> Result<String> {
    Ok(match Subject::of(p) {
        Subject::Key { prefix, project_id } => format!("key\u{0}{prefix}\u{0}{project_id}"),
        Subject::User { user, .. } => {
            format!(
                "user\u{0}{}",
                serde_json::to_string(user).map_err(crate::error::Error::internal)?
            )
        }
    })
}

/// `whoami`: who the caller is and, accurately, what that allows. A project
/// key has its project's capabilities, scoped to that one project: the tools
/// that need a person (registering, keys, approvals, tier changes, kill) are
/// out of reach, which an agent should know before it tries.
fn whoami(s: &Subject) -> Value {
    match s {
        Subject::Key { prefix, project_id } => json!({
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
        Subject::User { user, actor } => {
            let (can, cannot): (Vec<&str>, Vec<&str>) = match user.role {
                Role::Admin => (
                    vec![
                        "everything, across every project: register and update projects, request and deprovision resources, read secrets (audited)",
                    ],
                    vec![],
                ),
                Role::Auditor => (
                    vec![
                        "read every project, request and resource (pass project_id)",
                        "browse the service catalog, the groups and agent guidance (seed_*)",
                    ],
                    vec![
                        "change anything (auditors are read-only)",
                        "read secret values",
                    ],
                ),
                Role::Member => (
                    vec![
                        "register projects with yourself as owner or manager (register_project)",
                        "read and update projects you own or manage, request, follow and deprovision their resources and read their secrets (pass project_id)",
                        "browse the service catalog, the groups and agent guidance (seed_*)",
                    ],
                    vec!["see or act on projects you neither own nor manage"],
                ),
            };
            json!({"kind": "user", "actor": actor, "project_id": null, "user": user, "role": user.role.as_str(), "can": can, "cannot": cannot})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{CredentialRef, Via};

    fn key(key_id: &str, request_id: Option<&str>) -> Principal {
        Principal {
            identity: Identity::ProjectKey {
                key_id: key_id.into(),
                prefix: "asg_abcd".into(),
                project_id: "proj-2026-0001".into(),
            },
            request_id: request_id.map(str::to_string),
        }
    }

    fn user(role: Role, credential: &str) -> Principal {
        Principal {
            identity: Identity::User {
                user: UserInfo {
                    id: "u1".into(),
                    username: "alice".into(),
                    email: Some("alice@corp.example".into()),
                    display_name: None,
                    role,
                },
                via: Via::Pat,
                credential: Some(CredentialRef {
                    id: credential.into(),
                    expires_at: None,
                }),
            },
            request_id: None,
        }
    }

    #[test]
    fn whoami_for_a_project_key_is_scoped_and_honest() {
        let p = key("k1", None);
        let w = whoami(&Subject::of(&p));
        let text = |k: &str| {
            w[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        let (can, cannot) = (text("can"), text("cannot"));
        // What a key really does: its project's tools.
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
            let def = super::super::find(tool).expect("a real tool");
            assert_eq!(def.tool().name, tool);
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
        let schema = super::super::find("whoami")
            .unwrap()
            .tool()
            .output_schema
            .clone()
            .unwrap();
        assert!(schema["properties"].get("cannot").is_some());
    }

    /// The memo key is exactly what the answer depends on: the same for
    /// callers who differ only in key id, credential or request id, and
    /// different whenever the answer differs.
    #[test]
    fn the_memo_key_determines_the_answer() {
        let same = [key("k1", None), key("k2", Some("req-1"))];
        let keys: Vec<String> = same.iter().map(|p| whoami_subject(p).unwrap()).collect();
        assert_eq!(keys[0], keys[1]);
        assert_eq!(
            whoami(&Subject::of(&same[0])),
            whoami(&Subject::of(&same[1]))
        );

        let (a, b) = (user(Role::Member, "pat-1"), user(Role::Member, "pat-2"));
        assert_eq!(whoami_subject(&a).unwrap(), whoami_subject(&b).unwrap());
        assert_eq!(whoami(&Subject::of(&a)), whoami(&Subject::of(&b)));

        let auditor = user(Role::Auditor, "pat-1");
        assert_ne!(
            whoami_subject(&a).unwrap(),
            whoami_subject(&auditor).unwrap()
        );
        assert_ne!(whoami(&Subject::of(&a)), whoami(&Subject::of(&auditor)));
        assert_ne!(whoami_subject(&a).unwrap(), keys[0]);
    }
}
