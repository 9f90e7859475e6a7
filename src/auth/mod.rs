//! Who is calling. `Principal` is the one value every domain function gets;
//! the actor written to the audit log is always derived from it, never from a
//! request body. Credentials (sessions, PATs, project keys) are high-entropy
//! tokens stored only as SHA-256; passwords are Argon2id.

pub mod cache;
pub mod credential;
pub mod duties;
pub mod login;
pub mod offboard;
pub mod oidc;
pub mod password;
pub mod pats;
pub mod resolve;
pub mod sessions;
pub mod throttle;
pub mod token;
pub mod users;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Auditor => "auditor",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }
}

/// The signed-in user behind a session or PAT.
#[derive(Debug, Clone, Serialize)]
pub struct UserInfo {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    Session,
    Pat,
    DevInsecure,
}

/// The session or PAT a user came in with: its row id, and for a PAT its
/// fixed expiry (a session slides, so it has none here).
#[derive(Debug, Clone)]
pub struct CredentialRef {
    pub id: String,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub enum Identity {
    User {
        user: UserInfo,
        via: Via,
        /// `None` for the synthetic dev-insecure user.
        credential: Option<CredentialRef>,
    },
    ProjectKey {
        key_id: String,
        prefix: String,
        project_id: String,
    },
}

/// An authenticated caller plus the request id it arrived with.
#[derive(Debug, Clone)]
pub struct Principal {
    pub identity: Identity,
    pub request_id: Option<String>,
}

impl Principal {
    /// The audit actor: `user:<email|username>` or `key:<prefix>`.
    pub fn actor(&self) -> String {
        match &self.identity {
            Identity::User { user, .. } => {
                format!("user:{}", user.email.as_deref().unwrap_or(&user.username))
            }
            Identity::ProjectKey { prefix, .. } => format!("key:{prefix}"),
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    pub fn user(&self) -> Option<&UserInfo> {
        match &self.identity {
            Identity::User { user, .. } => Some(user),
            Identity::ProjectKey { .. } => None,
        }
    }

    /// How a user came in (`None` for a project key).
    pub fn via(&self) -> Option<Via> {
        match &self.identity {
            Identity::User { via, .. } => Some(*via),
            Identity::ProjectKey { .. } => None,
        }
    }

    /// The session or PAT behind this call, when a user made it.
    pub fn credential(&self) -> Option<&CredentialRef> {
        match &self.identity {
            Identity::User { credential, .. } => credential.as_ref(),
            Identity::ProjectKey { .. } => None,
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.user().map(|u| u.role)
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }

    /// Admins and auditors read across the whole organisation.
    pub fn reads_everything(&self) -> bool {
        matches!(self.role(), Some(Role::Admin | Role::Auditor))
    }

    pub fn email(&self) -> Option<&str> {
        self.user().and_then(|u| u.email.as_deref())
    }

    /// The project a project key is locked to.
    pub fn key_project(&self) -> Option<&str> {
        match &self.identity {
            Identity::ProjectKey { project_id, .. } => Some(project_id),
            _ => None,
        }
    }

    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::forbidden(
                "this action needs the admin role",
                "ask an admin to do it, or to grant you the role",
            ))
        }
    }

    /// Auditors read everything but change nothing.
    pub fn require_writer(&self) -> Result<()> {
        if self.role() == Some(Role::Auditor) {
            Err(Error::forbidden(
                "auditors have read-only access",
                "use an account with the member or admin role to make changes",
            ))
        } else {
            Ok(())
        }
    }
}
