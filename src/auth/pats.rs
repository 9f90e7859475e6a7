//! Personal access tokens: minted by a signed-in user, shown once, expiring
//! (default 90 days), revocable. A PAT acts as its user on `/mcp` and the REST
//! API; it stops working the moment the user is disabled (and disabling
//! revokes it, so re-enabling does not bring it back).
//!
//! A PAT mints no PAT unless `auth.pats_can_mint_pats` allows it: a leaked
//! token must not be able to renew itself. When allowed, the new token never
//! outlives the one that minted it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::resolve::Lifetime;
use super::{Principal, UserInfo, Via, token};
use crate::audit::{self, Event};
use crate::error::{Error, Result};
use crate::registry::validate;
use crate::store::Store;

/// `last_used_at` is written at most this often per token, so use stays
/// read-only on the hot path.
const USE_EVERY: Duration = Duration::seconds(60);

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPat {
    #[schemars(length(min = 1, max = 64))]
    pub name: String,
    /// Days until the token stops working (default 90).
    #[serde(default)]
    #[schemars(range(min = 1, max = 365))]
    pub expires_in_days: Option<i64>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct PatRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The expiry of a new PAT: `days` from `now`, except that a PAT minted by a
/// PAT (`minter_expires`) may not outlive it. A default is capped quietly; an
/// explicit `expires_in_days` beyond the cap is refused on that field.
pub fn expiry(
    now: DateTime<Utc>,
    days: Option<i64>,
    minter_expires: Option<DateTime<Utc>>,
) -> Result<DateTime<Utc>> {
    let asked = days.unwrap_or(90);
    if !(1..=365).contains(&asked) {
        return Err(Error::invalid(
            "expires_in_days",
            "must be between 1 and 365",
        ));
    }
    let exp = now + Duration::days(asked);
    match minter_expires {
        Some(cap) if exp > cap && days.is_some() => Err(Error::invalid_hint(
            "expires_in_days",
            format!(
                "must not outlive the token minting it, which expires at {}",
                cap.to_rfc3339()
            ),
            "ask for fewer days, or sign in and mint the token from a session",
        )),
        Some(cap) => Ok(exp.min(cap)),
        None => Ok(exp),
    }
}

/// A freshly minted personal access token: the only answer that carries
/// its value (no `Debug`, so it cannot reach a log by accident). Fields are
/// in alphabetical order, the order of the JSON rendering this replaced.
#[derive(Serialize, schemars::JsonSchema)]
pub struct MintedPat {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub id: String,
    pub name: String,
    pub prefix: String,
    /// The token itself, shown only here.
    pub token: String,
}

pub async fn mint(
    store: &Store,
    p: &Principal,
    n: NewPat,
    pats_can_mint_pats: bool,
) -> Result<MintedPat> {
    let user = p.user().ok_or_else(|| {
        Error::forbidden(
            "only users mint personal access tokens",
            "sign in as a user",
        )
    })?;
    if p.identity_is_dev() {
        return Err(Error::forbidden(
            "the dev-insecure user cannot mint tokens",
            "sign in as a real user",
        ));
    }
    let minter_expires = if p.via() == Some(Via::Pat) {
        if !pats_can_mint_pats {
            return Err(Error::forbidden(
                "a personal access token cannot mint another one",
                "sign in (POST /api/auth/login or SSO) and mint the token from that session",
            ));
        }
        // A PAT principal always carries its expiry; refuse if it somehow
        // does not rather than mint an uncapped token.
        Some(
            p.credential()
                .and_then(|c| c.expires_at)
                .ok_or_else(Error::unauthenticated)?,
        )
    } else {
        None
    };
    let name = validate::text("name", &n.name, 64)?;
    let now = store.clock().now();
    let exp = expiry(now, n.expires_in_days, minter_expires)?;
    let tok = token::generate(token::Kind::Pat);
    let id = uuid::Uuid::new_v4().to_string();
    let prefix = token::display_prefix(&tok);
    let mut tx = store.begin().await?;
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO pats (id, user_id, name, token_hash, prefix, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&user.id)
        .bind(&name)
        .bind(token::hash(&tok))
        .bind(&prefix)
        .bind(now)
        .bind(exp)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    audit::record(
        &mut tx,
        Event::new(p, "pat.minted")
            .target(&id)
            .data(serde_json::json!({
                "name": name, "prefix": prefix, "expires_at": exp,
                "minted_with": if minter_expires.is_some() { "pat" } else { "session" },
            })),
    )
    .await?;
    tx.commit().await?;
    Ok(MintedPat {
        created_at: now,
        expires_at: exp,
        id,
        name,
        prefix,
        token: tok,
    })
}

pub async fn list(store: &Store, p: &Principal) -> Result<Vec<PatRow>> {
    let user = p.user().ok_or_else(Error::unauthenticated)?;
    Ok(on_pool!(store.read(), |pool| {
        sqlx::query_as::<_, PatRow>(
            "SELECT id, name, prefix, created_at, expires_at, revoked_at, last_used_at FROM pats WHERE user_id = $1 ORDER BY created_at DESC",
        )
        .bind(&user.id)
        .fetch_all(pool)
        .await
    })?)
}

pub async fn revoke(store: &Store, p: &Principal, id: &str) -> Result<()> {
    let user = p.user().ok_or_else(Error::unauthenticated)?;
    let mut tx = store.begin().await?;
    let n = on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE pats SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(store.clock().now())
        .bind(id)
        .bind(&user.id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(Error::not_found("token"));
    }
    audit::record(&mut tx, Event::new(p, "pat.revoked").target(id)).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Row {
    pid: String,
    last_used_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    id: String,
    username: String,
    email: Option<String>,
    display_name: Option<String>,
    role: String,
}

/// The active user behind a PAT (by its hash; unrevoked, unexpired), with
/// how long the answer holds without a write.
pub async fn lookup(
    store: &Store,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, UserInfo, Lifetime)>> {
    let row: Option<Row> = on_pool!(store.read(), |p| {
        sqlx::query_as(
            "SELECT t.id AS pid, t.last_used_at, t.expires_at, u.id, u.username, u.email, u.display_name, u.role
             FROM pats t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.active = TRUE",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(p)
        .await
    })?;
    let Some(r) = row else { return Ok(None) };
    let lifetime = Lifetime {
        valid_until: r.expires_at,
        refresh_at: r.last_used_at.map_or(now, |t| t + USE_EVERY),
    };
    if r.last_used_at.is_none_or(|t| now - t > USE_EVERY) {
        on_pool!(store.write(), |p| {
            sqlx::query("UPDATE pats SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&r.pid)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    Ok(Some((
        r.pid,
        UserInfo {
            id: r.id,
            username: r.username,
            email: r.email,
            display_name: r.display_name,
            role: super::Role::parse(&r.role).unwrap_or(super::Role::Member),
        },
        lifetime,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pat_never_outlives_its_minter() {
        let now = Utc::now();
        let cap = now + Duration::days(10);
        // From a session: as asked, default 90 days.
        assert_eq!(expiry(now, None, None).unwrap(), now + Duration::days(90));
        assert_eq!(
            expiry(now, Some(400), None).unwrap_err().field(),
            Some("expires_in_days")
        );
        // From a PAT: a default is capped, a shorter ask kept, a longer ask refused.
        assert_eq!(expiry(now, None, Some(cap)).unwrap(), cap);
        assert_eq!(
            expiry(now, Some(3), Some(cap)).unwrap(),
            now + Duration::days(3)
        );
        assert_eq!(expiry(now, Some(10), Some(cap)).unwrap(), cap);
        let e = expiry(now, Some(11), Some(cap)).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_request", Some("expires_in_days"))
        );
    }
}
