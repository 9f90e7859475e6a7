//! Turning a presented credential into a `Principal`. Which kinds a door
//! accepts is the caller's choice: `/api` takes sessions and PATs, `/mcp`
//! takes PATs and project keys (never a session).

use super::{Identity, Principal, Via, pats, sessions, token};
use crate::error::Result;
use crate::registry::keys;
use crate::store::Store;

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
    let identity = match token::classify(tok) {
        Some(token::Kind::Session) if accept.session => {
            sessions::resolve(store, tok)
                .await?
                .map(|user| Identity::User {
                    user,
                    via: Via::Session,
                })
        }
        Some(token::Kind::Pat) if accept.pat => {
            pats::resolve(store, tok)
                .await?
                .map(|(_, user)| Identity::User {
                    user,
                    via: Via::Pat,
                })
        }
        Some(token::Kind::ProjectKey) if accept.project_key => keys::resolve(store, tok).await?,
        _ => None,
    };
    Ok(identity.map(|identity| Principal {
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
            },
            request_id,
        }
    }
}
