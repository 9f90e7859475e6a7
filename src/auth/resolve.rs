//! Turning a presented credential into a `Principal`. Which kinds a door
//! accepts is the caller's choice: `/api` takes sessions and PATs, `/mcp`
//! takes PATs and project keys (never a session).
//!
//! On SQLite a resolved credential is cached in process by token hash, in
//! the generation-checked cache of `store::cache`: a revoke, logout, kill,
//! decommission, deactivation or role change is a write, and every write
//! drops every cached credential, so it takes effect on the next request.
//! Expiry is time, not a write, so each entry also carries its expiry. On
//! Postgres other replicas write too, so every request asks the database.

use chrono::{DateTime, Utc};

use super::{CredentialRef, Identity, Principal, Via, pats, sessions, token};
use crate::error::Result;
use crate::registry::keys;
use crate::store::Store;
use crate::store::cache::Credential;

/// How long a resolved credential holds with no write in between: until it
/// expires, and until its throttled use record is due (which only the
/// database path writes).
#[derive(Debug, Clone, Copy)]
pub struct Lifetime {
    pub valid_until: DateTime<Utc>,
    pub refresh_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy)]
pub struct Accept {
    pub session: bool,
    pub pat: bool,
    pub project_key: bool,
}

pub const API: Accept = Accept {
    session: true,
    pat: true,
    project_key: false,
};
pub const MCP: Accept = Accept {
    session: false,
    pat: true,
    project_key: true,
};

/// Resolve a bearer token; `None` for anything unknown, revoked, expired,
/// of an inactive user, of a frozen project, or of a kind not accepted here.
pub async fn bearer(
    store: &Store,
    tok: &str,
    accept: Accept,
    request_id: Option<String>,
) -> Result<Option<Principal>> {
    let kind = match token::classify(tok) {
        Some(k @ token::Kind::Session) if accept.session => k,
        Some(k @ token::Kind::Pat) if accept.pat => k,
        Some(k @ token::Kind::ProjectKey) if accept.project_key => k,
        _ => return Ok(None),
    };
    let hash = token::hash(tok);
    let now = store.clock().now();
    let cache = store.caches().map(|c| &c.credentials);
    if let Some(hit) = cache.and_then(|c| c.get(&hash))
        && now < hit.valid_until
        && now < hit.refresh_at
    {
        return Ok(Some(Principal {
            identity: hit.identity,
            request_id,
        }));
    }
    // Taken before the query: see `store::cache` for why.
    let tag = cache.map(|c| c.generation());
    let found = match kind {
        token::Kind::Session => sessions::lookup(store, &hash, now)
            .await?
            .map(|(sid, user, l)| {
                let via = Via::Session;
                let credential = Some(CredentialRef {
                    id: sid,
                    expires_at: None,
                });
                (
                    Identity::User {
                        user,
                        via,
                        credential,
                    },
                    l,
                )
            }),
        token::Kind::Pat => pats::lookup(store, &hash, now)
            .await?
            .map(|(pid, user, l)| {
                let via = Via::Pat;
                let credential = Some(CredentialRef {
                    id: pid,
                    expires_at: Some(l.valid_until),
                });
                (
                    Identity::User {
                        user,
                        via,
                        credential,
                    },
                    l,
                )
            }),
        token::Kind::ProjectKey => keys::lookup(store, &hash, now).await?,
    };
    let Some((identity, lifetime)) = found else {
        return Ok(None);
    };
    if let (Some(cache), Some(tag)) = (cache, tag) {
        let entry = Credential {
            identity: identity.clone(),
            valid_until: lifetime.valid_until,
            refresh_at: lifetime.refresh_at,
        };
        cache.insert(hash, tag, entry);
    }
    Ok(Some(Principal {
        identity,
        request_id,
    }))
}

impl Principal {
    pub fn identity_is_dev(&self) -> bool {
        matches!(
            &self.identity,
            Identity::User {
                via: Via::DevInsecure,
                ..
            }
        )
    }

    /// The synthetic admin of `ASGARD_DEV_INSECURE`.
    pub fn dev_insecure(request_id: Option<String>) -> Principal {
        Principal {
            identity: Identity::User {
                user: super::UserInfo {
                    id: "dev-insecure".into(),
                    username: "dev-insecure".into(),
                    email: None,
                    display_name: Some("dev-insecure".into()),
                    role: super::Role::Admin,
                },
                via: Via::DevInsecure,
                credential: None,
            },
            request_id,
        }
    }
}
