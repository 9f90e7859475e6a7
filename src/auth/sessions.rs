//! Human sessions: opaque tokens stored hashed, 12 h sliding
//! expiry capped at 7 days absolute, swept when expired. The sliding update is
//! written at most once a minute per session so authenticated reads stay
//! read-only on the hot path.

use chrono::{DateTime, Duration, Utc};

use super::resolve::Lifetime;
use super::{UserInfo, token};
use crate::error::Result;
use crate::store::Store;

pub const IDLE: Duration = Duration::hours(12);
pub const ABSOLUTE: Duration = Duration::days(7);
const TOUCH_EVERY: Duration = Duration::seconds(60);

pub struct NewSession {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(store: &Store, user_id: &str) -> Result<NewSession> {
    let tok = token::generate(token::Kind::Session);
    let now = store.clock().now();
    let expires_at = now + IDLE;
    on_pool!(store.write(), |p| {
        sqlx::query(
            "INSERT INTO sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, absolute_expires_at)
             VALUES ($1, $2, $3, $4, $4, $5, $6)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(token::hash(&tok))
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .bind(now + ABSOLUTE)
        .execute(p)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(NewSession {
        token: tok,
        expires_at,
    })
}

#[derive(sqlx::FromRow)]
struct Row {
    sid: String,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    absolute_expires_at: DateTime<Utc>,
    id: String,
    username: String,
    email: Option<String>,
    display_name: Option<String>,
    role: String,
}

/// The session id and active user behind a session token (by its hash),
/// sliding its expiry, with how long the answer holds without a write.
pub async fn lookup(
    store: &Store,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, UserInfo, Lifetime)>> {
    let row: Option<Row> = on_pool!(store.read(), |p| {
        sqlx::query_as(
            "SELECT s.id AS sid, s.last_seen_at, s.expires_at, s.absolute_expires_at,
                    u.id, u.username, u.email, u.display_name, u.role
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.absolute_expires_at > $2 AND u.active = TRUE",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(p)
        .await
    })?;
    let Some(r) = row else { return Ok(None) };
    // Until the next sliding update is due; that update is a write, so an
    // entry cached before it is dropped by the generation bump anyway.
    let lifetime = Lifetime {
        valid_until: r.expires_at.min(r.absolute_expires_at),
        refresh_at: r.last_seen_at + TOUCH_EVERY,
    };
    if now - r.last_seen_at > TOUCH_EVERY {
        let exp = (now + IDLE).min(r.absolute_expires_at);
        on_pool!(store.write(), |p| {
            sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
                .bind(now)
                .bind(exp)
                .bind(&r.sid)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    let user = UserInfo {
        id: r.id,
        username: r.username,
        email: r.email,
        display_name: r.display_name,
        role: super::Role::parse(&r.role).unwrap_or(super::Role::Member),
    };
    Ok(Some((r.sid, user, lifetime)))
}

pub async fn end(store: &Store, tok: &str) -> Result<bool> {
    let n = on_pool!(store.write(), |p| {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token::hash(tok))
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n > 0)
}

/// Delete expired sessions; returns how many.
pub async fn sweep(store: &Store) -> Result<u64> {
    let now = store.clock().now();
    let n = on_pool!(store.write(), |p| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR absolute_expires_at <= $1")
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(n)
}
