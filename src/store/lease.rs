//! Leases with fencing tokens: the `leases` table names a holder, an expiry
//! and a token. Acquiring succeeds only when nobody holds the lease (no row,
//! or an expired or released one), and every acquisition, even by the same
//! holder, gets a new token: a replica paused past its lease can tell its old
//! run from a new one, and writes made under an old token are refused.
//! Renewal keeps the token and works only while the lease is still live.
//! Rows are never deleted (a release expires the row), so tokens only grow.
//! Time is the store's clock, bound as a parameter on both engines.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Store;

/// A held lease: its name, our holder id, and the fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub token: i64,
}

/// The expiry a released lease gets: long past, so anyone may acquire it.
fn released() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(365))
}

impl Store {
    /// Acquire `name` for `ttl` when nobody holds it; `Some` with a new
    /// fencing token when we do now. A live lease, ours included, is not
    /// taken: renew that one with `renew_lease`.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, sqlx::Error> {
        let now = self.clock().now();
        let token: Option<i64> = on_pool!(self.write(), |p| {
            sqlx::query_scalar(
                "INSERT INTO leases (name, holder, token, expires_at)
                 VALUES ($1, $2, 1, $4)
                 ON CONFLICT (name) DO UPDATE SET
                   token = leases.token + 1,
                   holder = excluded.holder,
                   expires_at = excluded.expires_at
                 WHERE leases.expires_at <= $3
                 RETURNING token",
            )
            .bind(name)
            .bind(holder)
            .bind(now)
            .bind(expiry(now, ttl))
            .fetch_optional(p)
            .await
        })?;
        Ok(token.map(|token| Lease {
            name: name.to_string(),
            holder: holder.to_string(),
            token,
        }))
    }

    /// Extend a lease we hold for another `ttl`. `false` when it expired or
    /// was taken over: the holder has lost it and must stop what it guards.
    pub async fn renew_lease(&self, lease: &Lease, ttl: Duration) -> Result<bool, sqlx::Error> {
        let now = self.clock().now();
        let n = on_pool!(self.write(), |p| {
            sqlx::query(
                "UPDATE leases SET expires_at = $4 WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > $5",
            )
            .bind(&lease.name)
            .bind(&lease.holder)
            .bind(lease.token)
            .bind(expiry(now, ttl))
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n == 1)
    }

    /// Give a lease up (after a run, on shutdown) so another holder can take
    /// it at once. The row stays, expired, so the next token is higher.
    pub async fn release_lease(&self, lease: &Lease) -> Result<(), sqlx::Error> {
        on_pool!(self.write(), |p| {
            sqlx::query(
                "UPDATE leases SET expires_at = $4 WHERE name = $1 AND holder = $2 AND token = $3",
            )
            .bind(&lease.name)
            .bind(&lease.holder)
            .bind(lease.token)
            .bind(released())
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Whether `lease` is still current (same holder and token, unexpired):
    /// the fencing check before a write made under it.
    pub async fn lease_valid(&self, lease: &Lease) -> Result<bool, sqlx::Error> {
        let n: i64 = on_pool!(self.read(), |p| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM leases WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > $4",
            )
            .bind(&lease.name)
            .bind(&lease.holder)
            .bind(lease.token)
            .bind(self.clock().now())
            .fetch_one(p)
            .await
        })?;
        Ok(n > 0)
    }
}
