//! Users: the bootstrap admin, password login, admin user management with
//! last-admin protection, and password changes. What a password change or a
//! disable revokes is in `offboard`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::offboard::{self, Disabled, PasswordChanged};
use super::{Principal, Role, UserInfo, Via, password};
use crate::audit::{self, Event};
use crate::error::{Error, Result};
use crate::registry::validate;
use crate::store::Store;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: String,
    pub active: bool,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub is_bootstrap: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    pub fn info(&self) -> UserInfo {
        UserInfo {
            id: self.id.clone(),
            username: self.username.clone(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: Role::parse(&self.role).unwrap_or(Role::Member),
        }
    }

    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id, "username": self.username, "email": self.email,
            "display_name": self.display_name, "role": self.role, "active": self.active,
            "local": self.password_hash.is_some(),
            "created_at": self.created_at, "updated_at": self.updated_at,
        })
    }
}

const COLS: &str = "id, username, email, display_name, role, active, password_hash, is_bootstrap, created_at, updated_at";

pub fn valid_username(u: &str) -> bool {
    !u.is_empty()
        && u.len() <= 64
        && u.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

pub async fn by_login(store: &Store, login: &str) -> Result<Option<UserRow>> {
    let login = login.trim().to_lowercase();
    let sql = format!("SELECT {COLS} FROM users WHERE lower(username) = $1 OR email = $1 LIMIT 1");
    Ok(on_pool!(store.read(), |p| sqlx::query_as::<_, UserRow>(
        &sql
    )
    .bind(&login)
    .fetch_optional(p)
    .await)?)
}

pub async fn by_id(store: &Store, id: &str) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {COLS} FROM users WHERE id = $1");
    Ok(on_pool!(store.read(), |p| sqlx::query_as::<_, UserRow>(
        &sql
    )
    .bind(id)
    .fetch_optional(p)
    .await)?)
}

/// Outcome of ensuring the bootstrap admin at boot.
pub enum Bootstrap {
    Exists,
    Created { generated_password: Option<String> },
}

/// Create the bootstrap admin if no user of that name exists.
pub async fn ensure_bootstrap_admin(
    store: &Store,
    username: &str,
    configured_password: Option<&str>,
) -> Result<Bootstrap> {
    let sql = "SELECT COUNT(*) FROM users WHERE username = $1";
    let n: i64 = on_pool!(store.write(), |p| sqlx::query_scalar(sql)
        .bind(username)
        .fetch_one(p)
        .await)?;
    if n > 0 {
        return Ok(Bootstrap::Exists);
    }
    let (pw, generated) = match configured_password {
        Some(p) => (p.to_string(), None),
        None => {
            let g = password::generate();
            (g.clone(), Some(g))
        }
    };
    let hash = password::hash(pw).await?;
    let now = store.clock().now();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = store.begin().await?;
    let inserted = on_tx!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO users (id, username, email, display_name, role, active, password_hash, is_bootstrap, created_at, updated_at)
             VALUES ($1, $2, NULL, 'Administrator', 'admin', TRUE, $3, TRUE, $4, $4) ON CONFLICT (username) DO NOTHING",
        )
        .bind(&id)
        .bind(username)
        .bind(&hash)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    if inserted == 0 {
        // Another replica created it first.
        return Ok(Bootstrap::Exists);
    }
    audit::record(
        &mut tx,
        Event::system("system:boot", "user.bootstrap_admin_created")
            .target(username)
            .data(serde_json::json!({"username": username, "generated_password": generated.is_some()})),
    )
    .await?;
    tx.commit().await?;
    Ok(Bootstrap::Created {
        generated_password: generated,
    })
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schemars(regex(pattern = r"^[A-Za-z0-9._@-]{1,64}$"))]
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[schemars(length(min = 12))]
    pub password: String,
    #[serde(default = "member")]
    #[schemars(extend("enum" = ["admin", "member", "auditor"]))]
    pub role: String,
}

fn member() -> String {
    "member".into()
}

pub async fn create(store: &Store, p: &Principal, n: NewUser) -> Result<UserRow> {
    p.require_admin()?;
    let username = n.username.trim().to_string();
    if !valid_username(&username) {
        return Err(Error::invalid(
            "username",
            "must be 1-64 characters of letters, digits, . _ - @",
        ));
    }
    let email = match n.email.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(e) => Some(validate::email("email", e)?),
        None => None,
    };
    let display_name = validate::opt_text("display_name", n.display_name.as_deref(), 120)?;
    let role = Role::parse(&n.role)
        .ok_or_else(|| Error::invalid("role", "must be admin, member or auditor"))?;
    password::check_new("password", &n.password)?;
    let hash = password::hash(n.password).await?;
    let now = store.clock().now();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = store.begin().await?;
    let res = on_tx!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO users (id, username, email, display_name, role, active, password_hash, is_bootstrap, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, TRUE, $6, FALSE, $7, $7)",
        )
        .bind(&id)
        .bind(&username)
        .bind(&email)
        .bind(&display_name)
        .bind(role.as_str())
        .bind(&hash)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    });
    if let Err(e) = res {
        return Err(if crate::error::is_unique_violation(&e) {
            Error::conflict(
                "a user with that username or email already exists",
                "pick another username or email",
            )
        } else {
            e.into()
        });
    }
    audit::record(
        &mut tx,
        Event::new(p, "user.created")
            .target(&id)
            .data(serde_json::json!({"username": username, "role": role.as_str()})),
    )
    .await?;
    tx.commit().await?;
    by_id(store, &id)
        .await?
        .ok_or_else(|| Error::not_found("user"))
}

pub async fn list(store: &Store, p: &Principal) -> Result<Vec<UserRow>> {
    if !p.reads_everything() {
        return Err(Error::forbidden(
            "listing users needs the admin or auditor role",
            "ask an admin",
        ));
    }
    let sql = format!("SELECT {COLS} FROM users ORDER BY created_at DESC, username");
    Ok(on_pool!(store.read(), |pool| {
        sqlx::query_as::<_, UserRow>(&sql).fetch_all(pool).await
    })?)
}

#[derive(Debug, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schemars(extend("enum" = ["admin", "member", "auditor", null]))]
    pub role: Option<String>,
    pub active: Option<bool>,
    pub display_name: Option<String>,
}

/// Who changes a user: an admin over the API, or `asgard users` on the
/// database directly.
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    Admin(&'a Principal),
    Cli,
}

impl<'a> Actor<'a> {
    fn event(self, action: &'a str) -> Event<'a> {
        match self {
            Actor::Admin(p) => Event::new(p, action),
            Actor::Cli => Event::system("system:cli", action),
        }
    }
}

/// A changed user, and when the change disabled them, what that revoked.
pub struct Updated {
    pub user: UserRow,
    pub disabled: Option<Disabled>,
}

impl Updated {
    pub fn public(&self) -> serde_json::Value {
        let mut v = self.user.public();
        if let Some(d) = &self.disabled {
            v["disabled"] = serde_json::json!(d);
        }
        v
    }
}

pub async fn update(store: &Store, p: &Principal, id: &str, patch: UserPatch) -> Result<Updated> {
    p.require_admin()?;
    apply(store, Actor::Admin(p), id, patch).await
}

/// Change a user (role, active, display name). Disabling ends every session
/// and PAT of the user and lists the project keys they minted.
pub async fn apply(store: &Store, who: Actor<'_>, id: &str, patch: UserPatch) -> Result<Updated> {
    let role = match &patch.role {
        Some(r) => Some(
            Role::parse(r)
                .ok_or_else(|| Error::invalid("role", "must be admin, member or auditor"))?,
        ),
        None => None,
    };
    let display_name = validate::opt_text("display_name", patch.display_name.as_deref(), 120)?;
    let mut tx = store.begin().await?;
    let sql = format!("SELECT {COLS} FROM users WHERE id = $1");
    let cur: Option<UserRow> = on_tx!(&mut tx, |c| sqlx::query_as::<_, UserRow>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    let cur = cur.ok_or_else(|| Error::not_found("user"))?;
    let new_role = role
        .map(|r| r.as_str().to_string())
        .unwrap_or_else(|| cur.role.clone());
    let new_active = patch.active.unwrap_or(cur.active);
    let loses_admin = cur.role == "admin" && cur.active && (new_role != "admin" || !new_active);
    if loses_admin {
        // Counted inside the write transaction, so two concurrent demotions
        // cannot both pass (SQLite has one writer; Postgres locks the rows).
        let lock = match store.engine() {
            crate::store::Engine::Postgres => " FOR UPDATE",
            crate::store::Engine::Sqlite => "",
        };
        let sql = format!("SELECT id FROM users WHERE role = 'admin' AND active = TRUE{lock}");
        let admins: Vec<String> = on_tx!(&mut tx, |c| sqlx::query_scalar(&sql)
            .fetch_all(&mut *c)
            .await)?;
        if admins.len() <= 1 {
            return Err(Error::conflict(
                "this is the last active admin; demoting or disabling it would lock everyone out",
                "make another user an admin first",
            ));
        }
    }
    let mut changed = Vec::new();
    if new_role != cur.role {
        changed.push("role");
    }
    if new_active != cur.active {
        changed.push("active");
    }
    if patch.display_name.is_some() && display_name != cur.display_name {
        changed.push("display_name");
    }
    let display_name = if patch.display_name.is_some() {
        display_name
    } else {
        cur.display_name.clone()
    };
    on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE users SET role = $1, active = $2, display_name = $3, updated_at = $4 WHERE id = $5")
            .bind(&new_role)
            .bind(new_active)
            .bind(&display_name)
            .bind(store.clock().now())
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    // A disabled user's sessions end and PATs are revoked now, so that
    // re-enabling the account brings none of them back.
    let disabled = if new_active {
        None
    } else {
        let actor = format!("user:{}", cur.email.as_deref().unwrap_or(&cur.username));
        Some(offboard::disable_tx(&mut tx, id, &actor).await?)
    };
    let mut data = serde_json::json!({"changed": changed, "role": new_role, "active": new_active});
    if let Some(d) = &disabled {
        data["sessions_ended"] = d.sessions_ended.into();
        data["tokens_revoked"] = d.tokens_revoked.into();
        data["project_keys_kept"] = d.project_keys.iter().map(|k| k.id.as_str()).collect();
    }
    audit::record(&mut tx, who.event("user.updated").target(id).data(data)).await?;
    tx.commit().await?;
    let user = by_id(store, id)
        .await?
        .ok_or_else(|| Error::not_found("user"))?;
    Ok(Updated { user, disabled })
}

/// Change the caller's own password (requires the current one). Ends the
/// user's other sessions, keeping the one that made the change; revokes
/// their PATs too when `revoke_tokens` asks for it.
pub async fn change_password(
    store: &Store,
    p: &Principal,
    current: String,
    new: String,
    revoke_tokens: bool,
) -> Result<PasswordChanged> {
    let user = p.user().ok_or_else(Error::unauthenticated)?;
    let row = by_id(store, &user.id)
        .await?
        .ok_or_else(Error::unauthenticated)?;
    let Some(stored) = row.password_hash.clone() else {
        return Err(Error::forbidden(
            "this account signs in through SSO and has no local password",
            "change it at your identity provider",
        ));
    };
    password::check_new("new_password", &new)?;
    if !password::verify(current, Some(stored)).await {
        return Err(Error::invalid_hint(
            "current_password",
            "is not correct",
            "enter your current password",
        ));
    }
    let keep = match p.via() {
        Some(Via::Session) => p.credential().map(|c| c.id.as_str()),
        _ => None,
    };
    set_password(store, &row.id, new, Some(p), keep, revoke_tokens).await
}

/// Set a password directly (also used by `asgard admin reset-password`).
/// Ends the user's sessions but `keep`, and revokes their PATs when
/// `revoke_tokens`.
pub async fn set_password(
    store: &Store,
    user_id: &str,
    new: String,
    p: Option<&Principal>,
    keep: Option<&str>,
    revoke_tokens: bool,
) -> Result<PasswordChanged> {
    let hash = password::hash(new).await?;
    let now = store.clock().now();
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(&hash)
            .bind(now)
            .bind(user_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    let sessions_ended = offboard::end_sessions_tx(&mut tx, user_id, keep).await?;
    let tokens_revoked = if revoke_tokens {
        offboard::revoke_pats_tx(&mut tx, user_id, now).await?
    } else {
        0
    };
    let tokens_active = offboard::live_pats_tx(&mut tx, user_id, now).await?;
    let ev = match p {
        Some(p) => Event::new(p, "user.password_changed"),
        None => Event::system("system:cli", "user.password_reset"),
    };
    let data =
        serde_json::json!({"sessions_ended": sessions_ended, "tokens_revoked": tokens_revoked});
    audit::record(&mut tx, ev.target(user_id).data(data)).await?;
    tx.commit().await?;
    Ok(PasswordChanged {
        sessions_ended,
        current_session_kept: keep.is_some(),
        tokens_revoked,
        tokens_active,
    })
}
