//! Separation of duties: who may decide (approve or reject) a pending
//! request. Only admins decide at all (checked by the caller); this is about
//! which admin.
//!
//! A request made through a project key is the project's own ask, not only
//! the key's. Comparing actor texts alone let an admin mint a key, request
//! through it (`key:<prefix>`) and approve as themselves. So for a key's
//! request the requesting side is the key, every person who minted a key
//! with that prefix in the project, and the project's owner: the owner
//! answers for the project and its agents, and with approval being a single
//! step they would otherwise be the only check on their own project's ask.
//! Another admin must decide. The project's manager is not excluded: the
//! owner is the accountable party, and excluding everyone with authority
//! would leave small teams no approver at all.

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::registry::keys;
use crate::store::Tx;

/// The admin about to decide.
#[derive(Debug, Clone, Copy)]
pub struct Decider<'a> {
    pub actor: &'a str,
    pub user_id: Option<&'a str>,
    pub email: Option<&'a str>,
}

/// Who minted a key: the actor text recorded then, and the user id when
/// it is known (keys minted before ids were recorded may lack it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minter {
    pub actor: String,
    pub user_id: Option<String>,
}

/// The requesting side of a request.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// `requested_by` as recorded: `user:…` or `key:<prefix>`.
    pub actor: &'a str,
    /// The user who asked, when a person did (recorded by id, so a later
    /// change of their email does not make them someone else).
    pub user_id: Option<&'a str>,
    /// For a key's request: who minted it, and the project's owner.
    pub key: Option<KeyParties<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub struct KeyParties<'a> {
    pub minters: &'a [Minter],
    pub owner_email: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The decider made the request.
    OwnRequest,
    /// The decider minted the key the request came through.
    KeyMinter,
    /// The decider owns the project whose key made the request.
    ProjectOwner,
    /// The key behind the request cannot be found, so nobody can be
    /// cleared of having minted it.
    UnknownKey,
}

/// Why `d` may not decide a request from `r`, or `None` when they may.
pub fn refusal(d: &Decider, r: &Requester) -> Option<Refusal> {
    let same_user = matches!((d.user_id, r.user_id), (Some(a), Some(b)) if a == b);
    if d.actor == r.actor || same_user {
        return Some(Refusal::OwnRequest);
    }
    let k = r.key?;
    if k.minters.is_empty() {
        return Some(Refusal::UnknownKey);
    }
    let minted = k.minters.iter().any(|m| {
        m.actor == d.actor
            || matches!((m.user_id.as_deref(), d.user_id), (Some(a), Some(b)) if a == b)
    });
    if minted {
        return Some(Refusal::KeyMinter);
    }
    if d.email
        .is_some_and(|e| e.eq_ignore_ascii_case(k.owner_email))
    {
        return Some(Refusal::ProjectOwner);
    }
    None
}

/// Refuse `p` the decision of a request `requested_by` in `project_id`
/// when they are on its requesting side (403 `forbidden`).
pub async fn check(
    tx: &mut Tx,
    p: &Principal,
    requested_by: &str,
    requested_by_user_id: Option<&str>,
    project_id: &str,
) -> Result<()> {
    let actor = p.actor();
    let user = p.user();
    let d = Decider {
        actor: &actor,
        user_id: user.map(|u| u.id.as_str()),
        email: user.and_then(|u| u.email.as_deref()),
    };
    let (minters, owner_email) = match requested_by.strip_prefix("key:") {
        Some(prefix) => {
            let minters = keys::minters_tx(tx, project_id, prefix).await?;
            let owner = crate::registry::projects::fetch_tx(tx, project_id)
                .await?
                .map(|pr| pr.owner_email)
                .unwrap_or_default();
            (minters, Some(owner))
        }
        None => (Vec::new(), None),
    };
    let r = Requester {
        actor: requested_by,
        user_id: requested_by_user_id,
        key: owner_email.as_deref().map(|owner_email| KeyParties {
            minters: &minters,
            owner_email,
        }),
    };
    let Some(why) = refusal(&d, &r) else {
        return Ok(());
    };
    let (message, hint) = match why {
        Refusal::OwnRequest => ("you cannot decide your own request", "ask another admin"),
        Refusal::KeyMinter => (
            "this request came through a project key you minted, so it counts as your own",
            "ask another admin",
        ),
        Refusal::ProjectOwner => (
            "this request came through a key of a project you own; its owner cannot decide the project's own requests",
            "ask an admin who neither owns the project nor minted its key",
        ),
        Refusal::UnknownKey => (
            "the project key behind this request cannot be found, so who minted it is unknown",
            "ask an operator to check the project's keys",
        ),
    };
    Err(Error::forbidden(message, hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minter(actor: &str, id: Option<&str>) -> Minter {
        Minter {
            actor: actor.into(),
            user_id: id.map(str::to_string),
        }
    }

    fn key<'a>(minters: &'a [Minter], owner_email: &'a str) -> Requester<'a> {
        Requester {
            actor: "key:asg_0123abcd",
            user_id: None,
            key: Some(KeyParties {
                minters,
                owner_email,
            }),
        }
    }

    fn person(actor: &str) -> Requester<'_> {
        Requester {
            actor,
            user_id: None,
            key: None,
        }
    }

    fn person_id<'a>(actor: &'a str, id: &'a str) -> Requester<'a> {
        Requester {
            actor,
            user_id: Some(id),
            key: None,
        }
    }

    #[test]
    fn who_may_decide() {
        let ann = Decider {
            actor: "user:ann@corp.example",
            user_id: Some("u-ann"),
            email: Some("ann@corp.example"),
        };
        let root = Decider {
            actor: "user:admin",
            user_id: Some("u-root"),
            email: None,
        };
        let by_ann = [minter("user:ann@corp.example", Some("u-ann"))];
        // Minted by Ann before she had an email: her id still matches.
        let by_ann_renamed = [minter("user:ann", Some("u-ann"))];
        // A key from before ids were recorded: the actor text matches.
        let by_ann_legacy = [minter("user:ann@corp.example", None)];
        let by_bob = [minter("user:bob@corp.example", Some("u-bob"))];
        let shared = [by_bob[0].clone(), by_ann[0].clone()];
        let owner = "owner@corp.example";
        use Refusal::*;
        let cases: [(&str, Decider, Requester, Option<Refusal>); 14] = [
            // Asked as `user:ann` before her email was set (or changed):
            // the recorded id still makes it her own request.
            (
                "own request under an older actor text",
                ann,
                person_id("user:ann", "u-ann"),
                Some(OwnRequest),
            ),
            (
                "another person's request, by id",
                ann,
                person_id("user:bob@corp.example", "u-bob"),
                None,
            ),
            (
                "own direct request",
                ann,
                person(ann.actor),
                Some(OwnRequest),
            ),
            (
                "another person's request",
                ann,
                person("user:bob@corp.example"),
                None,
            ),
            (
                "a key's request, other admin",
                root,
                key(&by_bob, owner),
                None,
            ),
            (
                "the key's minter",
                ann,
                key(&by_ann, owner),
                Some(KeyMinter),
            ),
            (
                "minter under an older actor text",
                ann,
                key(&by_ann_renamed, owner),
                Some(KeyMinter),
            ),
            (
                "legacy key without minter id",
                ann,
                key(&by_ann_legacy, owner),
                Some(KeyMinter),
            ),
            (
                "owner of the key's project",
                ann,
                key(&by_bob, "ANN@corp.example"),
                Some(ProjectOwner),
            ),
            (
                "owner who also minted",
                ann,
                key(&by_ann, "ann@corp.example"),
                Some(KeyMinter),
            ),
            ("no email is never the owner", root, key(&by_bob, ""), None),
            ("key not found", root, key(&[], owner), Some(UnknownKey)),
            (
                "prefix shared by two keys",
                ann,
                key(&shared, owner),
                Some(KeyMinter),
            ),
            // The owner rule is for key requests only.
            (
                "owner, a person's direct ask",
                ann,
                person("user:bob@corp.example"),
                None,
            ),
        ];
        for (what, d, r, want) in cases {
            assert_eq!(refusal(&d, &r), want, "{what}");
        }
    }
}
