//! What ends when a user's access should: a password change ends the user's
//! other sessions (the one that made the change stays) and, when asked,
//! revokes their PATs; disabling a user ends every session and revokes every
//! PAT, so re-enabling the account later brings none of them back.
//!
//! Project keys the user minted are not revoked: a key belongs to its
//! project, and agents keep running when a person leaves. Disabling answers
//! with the list of those keys so that an admin can revoke any of them.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::registry::keys::{self, KeyRow};
use crate::store::Tx;

/// End the user's sessions except `keep` (a session id); returns how many.
pub async fn end_sessions_tx(tx: &mut Tx, user_id: &str, keep: Option<&str>) -> Result<u64> {
    Ok(on_tx!(tx, |c| sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1 AND id <> $2"
    )
    .bind(user_id)
    // No session id is empty, so "" keeps none.
    .bind(keep.unwrap_or(""))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// Revoke every live PAT of the user; returns how many.
pub async fn revoke_pats_tx(tx: &mut Tx, user_id: &str, now: DateTime<Utc>) -> Result<u64> {
    Ok(on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE pats SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1"
    )
    .bind(now)
    .bind(user_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?)
}

/// How many of the user's PATs still work.
pub async fn live_pats_tx(tx: &mut Tx, user_id: &str, now: DateTime<Utc>) -> Result<i64> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM pats WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2"
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(&mut *c)
    .await)?)
}

/// The answer to a password change.
#[derive(Debug, Serialize)]
pub struct PasswordChanged {
    /// Other sessions of the user that ended.
    pub sessions_ended: u64,
    /// Whether the session that made the change is still signed in.
    pub current_session_kept: bool,
    /// PATs revoked because the change asked for it (`revoke_tokens`).
    pub tokens_revoked: u64,
    /// PATs that still work.
    pub tokens_active: i64,
}

/// What disabling a user did, and what it left for an admin to decide.
#[derive(Debug, Serialize)]
pub struct Disabled {
    pub sessions_ended: u64,
    pub tokens_revoked: u64,
    /// Unrevoked, unexpired project keys the user minted; they keep working.
    pub project_keys: Vec<KeyRow>,
    pub hint: &'static str,
}

pub const KEYS_HINT: &str = "project keys belong to their project and keep working after their minter is disabled; revoke any you no longer trust with DELETE /api/projects/{project_id}/keys/{key_id}";

/// End every session and PAT of a user being disabled, and list the
/// project keys they minted. `actor` is the user's actor text, which older
/// keys recorded instead of the user id.
pub async fn disable_tx(tx: &mut Tx, user_id: &str, actor: &str) -> Result<Disabled> {
    let now = tx.now();
    Ok(Disabled {
        sessions_ended: end_sessions_tx(tx, user_id, None).await?,
        tokens_revoked: revoke_pats_tx(tx, user_id, now).await?,
        project_keys: keys::minted_by_tx(tx, user_id, actor, now).await?,
        hint: KEYS_HINT,
    })
}
