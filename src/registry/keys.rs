//! Project keys: minted by the project's authority, shown once,
//! stored as SHA-256, optionally expiring, revocable. A key works only while
//! its project is active and not killed.
//!
//! A key belongs to its project, not to the person who minted it: disabling
//! that person leaves the key working (agents keep running when someone
//! leaves), and lists it so an admin can revoke it. Who minted it is kept
//! (`created_by`, `created_by_user_id`) for that list and for separation of
//! duties: the minter may not approve the key's requests.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::projects::fetch_tx;
use crate::audit::{self, Event};
use crate::auth::resolve::Lifetime;
use crate::auth::{Identity, Principal, token};
use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::store::Store;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// What the key is for (e.g. the agent's name).
    #[schemars(length(min = 1, max = 64))]
    pub name: String,
    /// Days until the key stops working; none = no expiry.
    #[serde(default)]
    #[schemars(range(min = 1, max = 3650))]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct KeyRow {
    #[serde(rename = "key_id")]
    pub id: String,
    pub project_id: String,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created_by_user_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

async fn authorised_project(
    tx: &mut crate::store::Tx,
    p: &Principal,
    id: &str,
) -> Result<super::Project> {
    let pr = fetch_tx(tx, id)
        .await?
        .filter(|c| c.visible_to(p))
        .ok_or_else(|| Error::not_found(format!("project {id}")))?;
    pr.require_authority(p)?;
    Ok(pr)
}

/// A freshly minted project key: the only answer that carries its value
/// (no `Debug`, so it cannot reach a log by accident). Fields are in
/// alphabetical order, the order of the JSON rendering this replaced.
#[derive(Serialize, schemars::JsonSchema)]
pub struct MintedKey {
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The key itself, shown only here.
    pub key: String,
    pub key_id: String,
    pub name: String,
    pub prefix: String,
    pub project_id: String,
}

pub async fn mint(
    reg: Registry<'_>,
    p: &Principal,
    project_id: &str,
    n: NewKey,
) -> Result<MintedKey> {
    let name = super::validate::text("name", &n.name, 64)?;
    let expires_at = match n.expires_in_days {
        None => None,
        Some(d) if (1..=3650).contains(&d) => Some(reg.store.clock().now() + Duration::days(d)),
        Some(_) => {
            return Err(Error::invalid(
                "expires_in_days",
                "must be between 1 and 3650",
            ));
        }
    };
    let mut tx = reg.store.begin().await?;
    let pr = authorised_project(&mut tx, p, project_id).await?;
    pr.require_live()?;
    let key = token::generate(token::Kind::ProjectKey);
    let id = uuid::Uuid::new_v4().to_string();
    let prefix = token::display_prefix(&key);
    let now = reg.store.clock().now();
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO project_keys (id, project_id, name, key_hash, prefix, created_by, created_by_user_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(project_id)
        .bind(&name)
        .bind(token::hash(&key))
        .bind(&prefix)
        .bind(p.actor())
        .bind(p.user().map(|u| u.id.as_str()))
        .bind(now)
        .bind(expires_at)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    audit::record(
        &mut tx,
        Event::new(p, "key.minted")
            .project(project_id)
            .target(&id)
            .data(json!({"name": name, "prefix": prefix, "expires_at": expires_at})),
    )
    .await?;
    tx.commit().await?;
    Ok(MintedKey {
        created_at: now,
        expires_at,
        key,
        key_id: id,
        name,
        prefix,
        project_id: project_id.to_string(),
    })
}

pub async fn list(reg: Registry<'_>, p: &Principal, project_id: &str) -> Result<Vec<KeyRow>> {
    let pr = super::projects::get(reg, p, project_id).await?;
    if !(pr.has_authority(p) || p.reads_everything()) {
        return Err(Error::forbidden(
            "listing keys needs authority over the project",
            "ask the owner or manager",
        ));
    }
    Ok(on_pool!(reg.store.read(), |pool| {
        sqlx::query_as::<_, KeyRow>(
            "SELECT id, project_id, name, prefix, created_by, created_by_user_id, created_at, expires_at, revoked_at, last_used_at
             FROM project_keys WHERE project_id = $1 ORDER BY created_at DESC",
        )
        .bind(project_id)
        .fetch_all(pool)
        .await
    })?)
}

pub async fn revoke(
    reg: Registry<'_>,
    p: &Principal,
    project_id: &str,
    key_id: &str,
) -> Result<()> {
    let mut tx = reg.store.begin().await?;
    authorised_project(&mut tx, p, project_id).await?;
    let n = on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE project_keys SET revoked_at = $1 WHERE id = $2 AND project_id = $3 AND revoked_at IS NULL")
            .bind(reg.store.clock().now())
            .bind(key_id)
            .bind(project_id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(Error::not_found(format!("key {key_id}")));
    }
    audit::record(
        &mut tx,
        Event::new(p, "key.revoked")
            .project(project_id)
            .target(key_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Who minted the project's keys with this display prefix (one, unless two
/// keys of the project share it), revoked ones included: a request made
/// before a revoke still came from its minter.
pub async fn minters_tx(
    tx: &mut crate::store::Tx,
    project_id: &str,
    prefix: &str,
) -> Result<Vec<crate::auth::duties::Minter>> {
    let rows: Vec<(String, Option<String>)> = on_tx!(tx, |c| {
        sqlx::query_as(
            "SELECT created_by, created_by_user_id FROM project_keys WHERE project_id = $1 AND prefix = $2",
        )
        .bind(project_id)
        .bind(prefix)
        .fetch_all(&mut *c)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(actor, user_id)| crate::auth::duties::Minter { actor, user_id })
        .collect())
}

/// The keys `user_id` (whose actor text is `actor`) minted that still work
/// or would again after an unkill: unrevoked and unexpired.
pub async fn minted_by_tx(
    tx: &mut crate::store::Tx,
    user_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<KeyRow>> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as::<_, KeyRow>(
            "SELECT id, project_id, name, prefix, created_by, created_by_user_id, created_at, expires_at, revoked_at, last_used_at
             FROM project_keys
             WHERE (created_by_user_id = $1 OR (created_by_user_id IS NULL AND created_by = $2))
               AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3)
             ORDER BY project_id, created_at",
        )
        .bind(user_id)
        .bind(actor)
        .bind(now)
        .fetch_all(&mut *c)
        .await
    })?)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    prefix: String,
    project_id: String,
    last_used_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

/// `last_used_at` is written at most this often per key, so use stays
/// read-only on the hot path.
const USE_EVERY: Duration = Duration::seconds(60);

/// The identity behind a project key (by its hash): unrevoked, unexpired,
/// and its project active and not killed; with how long the answer holds
/// without a write.
pub async fn lookup(
    store: &Store,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Identity, Lifetime)>> {
    let row: Option<Row> = on_pool!(store.read(), |p| {
        sqlx::query_as(
            "SELECT k.id, k.prefix, k.project_id, k.last_used_at, k.expires_at
             FROM project_keys k JOIN projects pr ON pr.id = k.project_id
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2)
               AND pr.lifecycle = 'active' AND pr.killed = FALSE",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(p)
        .await
    })?;
    let Some(r) = row else { return Ok(None) };
    let lifetime = Lifetime {
        valid_until: r.expires_at.unwrap_or(DateTime::<Utc>::MAX_UTC),
        refresh_at: r.last_used_at.map_or(now, |t| t + USE_EVERY),
    };
    if r.last_used_at.is_none_or(|t| now - t > USE_EVERY) {
        on_pool!(store.write(), |p| {
            sqlx::query("UPDATE project_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&r.id)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    let identity = Identity::ProjectKey {
        key_id: r.id,
        prefix: r.prefix,
        project_id: r.project_id,
    };
    Ok(Some((identity, lifetime)))
}
