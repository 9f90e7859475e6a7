//! Who an SSO sign-in is in Asgard. Accounts are linked by
//! `(issuer, sub)`. On the first sign-in, an existing account is linked only
//! when the provider verified the email and the account is neither the
//! bootstrap admin nor linked to another identity; otherwise a `member` is
//! created. The profile (display name, verified email, admin role from the
//! groups claim) is refreshed at every sign-in.

use serde_json::json;

use super::profile::Profile;
use super::{Failure, Reason};
use crate::audit::{self, Event};
use crate::auth::Role;
use crate::auth::users::{self, UserRow};
use crate::error::is_unique_violation;
use crate::store::{Store, Tx};

const ACTOR: &str = "system:oidc";

/// The columns linking needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: String,
    pub active: bool,
    pub is_bootstrap: bool,
    pub oidc_subject: Option<String>,
}

#[derive(Debug)]
pub enum Plan {
    Existing(Account),
    Link(Account),
    Create,
}

/// Decide from the account linked to `(issuer, sub)` and the account that
/// holds the (verified) email, if any.
pub fn plan(by_subject: Option<Account>, by_email: Option<Account>) -> Result<Plan, Failure> {
    if let Some(a) = by_subject {
        return if a.active {
            Ok(Plan::Existing(a))
        } else {
            Err(disabled())
        };
    }
    let Some(a) = by_email else {
        return Ok(Plan::Create);
    };
    if a.is_bootstrap {
        return Err(Failure::new(
            Reason::LinkRefused,
            "your email belongs to Asgard's built-in admin account, which is never linked to single sign-on",
        ));
    }
    if a.oidc_subject.is_some() {
        return Err(Failure::new(
            Reason::LinkRefused,
            "the Asgard account with your email is already linked to another single sign-on identity",
        ));
    }
    if !a.active {
        return Err(disabled());
    }
    Ok(Plan::Link(a))
}

fn disabled() -> Failure {
    Failure::new(
        Reason::AccountDisabled,
        "an admin has disabled the Asgard account linked to your identity",
    )
}

/// The role after applying group mapping: with `ASGARD_OIDC_ADMIN_GROUPS`
/// set, membership grants admin and its absence removes it; auditors and
/// members outside those groups keep their role.
pub fn mapped_role(current: Role, groups: Option<&[String]>, admin_groups: &[String]) -> Role {
    if admin_groups.is_empty() {
        return current;
    }
    let admin = groups.is_some_and(|g| g.iter().any(|x| admin_groups.contains(x)));
    match (admin, current) {
        (true, _) => Role::Admin,
        (false, Role::Admin) => Role::Member,
        (false, r) => r,
    }
}

/// A username from the profile: the preferred username or the email's local
/// part, reduced to the characters usernames allow.
pub fn base_username(p: &Profile) -> String {
    let raw = p
        .preferred_username
        .as_deref()
        .or(p.email.as_deref())
        .or(p.name.as_deref())
        .unwrap_or("user");
    let raw = raw.split('@').next().unwrap_or(raw).to_lowercase();
    let mut s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    s = s.trim_matches(|c| c == '-' || c == '.').to_string();
    s.truncate(48);
    if s.is_empty() { "user".into() } else { s }
}

const COLS: &str = "id, username, email, display_name, role, active, is_bootstrap, oidc_subject";

async fn find(
    tx: &mut Tx,
    filter: &str,
    a: &str,
    b: Option<&str>,
) -> crate::error::Result<Option<Account>> {
    let sql = format!("SELECT {COLS} FROM users WHERE {filter}");
    Ok(on_tx!(tx, |c| {
        let q = sqlx::query_as::<_, Account>(&sql).bind(a);
        let q = match b {
            Some(b) => q.bind(b),
            None => q,
        };
        q.fetch_optional(&mut *c).await
    })?)
}

async fn username_free(tx: &mut Tx, name: &str) -> crate::error::Result<bool> {
    let n: i64 = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE lower(username) = $1"
    )
    .bind(name)
    .fetch_one(&mut *c)
    .await)?;
    Ok(n == 0)
}

async fn unique_username(tx: &mut Tx, base: &str) -> crate::error::Result<String> {
    if username_free(tx, base).await? {
        return Ok(base.to_string());
    }
    for i in 2..=20 {
        let c = format!("{base}-{i}");
        if username_free(tx, &c).await? {
            return Ok(c);
        }
    }
    Ok(format!(
        "{base}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ))
}

/// Whether removing `user_id`'s admin role leaves another active admin.
async fn other_admin_exists(
    tx: &mut Tx,
    store: &Store,
    user_id: &str,
) -> crate::error::Result<bool> {
    let lock = match store.engine() {
        crate::store::Engine::Postgres => " FOR UPDATE",
        crate::store::Engine::Sqlite => "",
    };
    let sql = format!("SELECT id FROM users WHERE role = 'admin' AND active = TRUE{lock}");
    let ids: Vec<String> = on_tx!(tx, |c| sqlx::query_scalar(&sql).fetch_all(&mut *c).await)?;
    Ok(ids.iter().any(|i| i != user_id))
}

enum Attempt {
    Done(UserRow),
    Retry,
}

/// Find, link or create the user for a verified sign-in.
pub async fn sign_in(
    store: &Store,
    issuer: &str,
    profile: &Profile,
    admin_groups: &[String],
) -> Result<UserRow, Failure> {
    for _ in 0..2 {
        match attempt(store, issuer, profile, admin_groups).await {
            Ok(Attempt::Done(u)) => return Ok(u),
            // A concurrent first sign-in won a unique constraint: read again.
            Ok(Attempt::Retry) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Failure::new(
        Reason::Internal,
        "the account could not be saved",
    ))
}

async fn attempt(
    store: &Store,
    issuer: &str,
    p: &Profile,
    admin_groups: &[String],
) -> Result<Attempt, Failure> {
    let mut tx = store.begin().await.map_err(crate::error::Error::from)?;
    let by_subject = find(
        &mut tx,
        "oidc_issuer = $1 AND oidc_subject = $2",
        issuer,
        Some(&p.sub),
    )
    .await?;
    let by_email = match (&by_subject, &p.email) {
        (None, Some(e)) => find(&mut tx, "email = $1", e, None).await?,
        _ => None,
    };
    let now = store.clock().now();
    let (id, role_before, role, linked) = match plan(by_subject, by_email)? {
        Plan::Create => {
            let username = unique_username(&mut tx, &base_username(p)).await?;
            let role = mapped_role(Role::Member, p.groups.as_deref(), admin_groups);
            let id = uuid::Uuid::new_v4().to_string();
            let res = on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO users (id, username, email, display_name, role, active, password_hash, oidc_issuer, oidc_subject, is_bootstrap, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, TRUE, NULL, $6, $7, FALSE, $8, $8)"
            )
            .bind(&id)
            .bind(&username)
            .bind(&p.email)
            .bind(&p.name)
            .bind(role.as_str())
            .bind(issuer)
            .bind(&p.sub)
            .bind(now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
            });
            match res {
                Err(e) if is_unique_violation(&e) => return Ok(Attempt::Retry),
                r => r.map_err(crate::error::Error::from)?,
            };
            audit::record(
                &mut tx,
                Event::system(ACTOR, "user.created").target(&id).data(json!({
                    "username": username, "role": role.as_str(), "method": "oidc", "issuer": issuer,
                })),
            )
            .await?;
            tx.commit().await.map_err(crate::error::Error::from)?;
            tracing::info!(user_id = %id, %username, "oidc: created a user on first sign-in");
            return finish(store, &id).await;
        }
        Plan::Existing(a) => {
            let before = Role::parse(&a.role).unwrap_or(Role::Member);
            (
                a.id,
                before,
                mapped_role(before, p.groups.as_deref(), admin_groups),
                false,
            )
        }
        Plan::Link(a) => {
            let before = Role::parse(&a.role).unwrap_or(Role::Member);
            (
                a.id,
                before,
                mapped_role(before, p.groups.as_deref(), admin_groups),
                true,
            )
        }
    };
    let mut role = role;
    if role_before == Role::Admin
        && role != Role::Admin
        && !other_admin_exists(&mut tx, store, &id).await?
    {
        tracing::warn!(user_id = %id, "oidc: not removing the admin role from the last active admin");
        role = Role::Admin;
    }
    // A verified email that another account holds stays where it is.
    let email = match &p.email {
        Some(e) => match find(&mut tx, "email = $1 AND id <> $2", e, Some(&id)).await? {
            Some(_) => {
                tracing::warn!(user_id = %id, "oidc: the provider's email belongs to another account; keeping the old one");
                None
            }
            None => Some(e.clone()),
        },
        None => None,
    };
    let res = on_tx!(&mut tx, |c| {
        sqlx::query(
        "UPDATE users SET email = COALESCE($1, email), display_name = COALESCE($2, display_name), role = $3,
                oidc_issuer = $4, oidc_subject = $5, updated_at = $6
         WHERE id = $7"
    )
    .bind(&email)
    .bind(&p.name)
    .bind(role.as_str())
    .bind(issuer)
    .bind(&p.sub)
    .bind(now)
    .bind(&id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    });
    match res {
        Err(e) if is_unique_violation(&e) => return Ok(Attempt::Retry),
        r => r.map_err(crate::error::Error::from)?,
    };
    if linked {
        audit::record(
            &mut tx,
            Event::system(ACTOR, "user.oidc_linked")
                .target(&id)
                .data(json!({"issuer": issuer, "via": "verified_email"})),
        )
        .await?;
    }
    if role != role_before {
        audit::record(
            &mut tx,
            Event::system(ACTOR, "user.updated")
                .target(&id)
                .data(json!({
                    "changed": ["role"], "role": role.as_str(), "source": "oidc_groups",
                })),
        )
        .await?;
    }
    tx.commit().await.map_err(crate::error::Error::from)?;
    finish(store, &id).await
}

async fn finish(store: &Store, id: &str) -> Result<Attempt, Failure> {
    users::by_id(store, id)
        .await?
        .map(Attempt::Done)
        .ok_or_else(|| Failure::new(Reason::Internal, "the account disappeared while signing in"))
}

#[cfg(test)]
#[path = "linking_tests.rs"]
mod tests;
