//! Leases with fencing tokens (SPEC §9): the `leases` table names a holder
//! and an expiry. Acquiring an expired (or own) lease succeeds; taking over
//! from another holder bumps the fencing token, so writes made under an old
//! token can be refused. On Postgres all arithmetic uses the database clock
//! (`now()`), so skew between replicas cannot break it; SQLite has exactly
//! one process, whose clock is the only one.

use std::time::Duration;

use chrono::Utc;

use super::{Engine, Store};

/// A held lease: its name, our holder id, and the fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub token: i64,
}

impl Store {
    /// Try to acquire or renew `name` for `ttl`. `Some` when we hold it now.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>, sqlx::Error> {
        let secs = ttl.as_secs_f64();
        let token: Option<i64> = match self.engine() {
            Engine::Postgres => on_pool!(self.write(), |p| {
                sqlx::query_scalar(
                        "INSERT INTO leases (name, holder, token, expires_at)
                         VALUES ($1, $2, 1, now() + make_interval(secs => $3))
                         ON CONFLICT (name) DO UPDATE SET
                           token = CASE WHEN leases.holder = EXCLUDED.holder THEN leases.token ELSE leases.token + 1 END,
                           holder = EXCLUDED.holder,
                           expires_at = EXCLUDED.expires_at
                         WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now()
                         RETURNING token",
                    )
                    .bind(name)
                    .bind(holder)
                    .bind(secs)
                    .fetch_optional(p)
                    .await
            })?,
            Engine::Sqlite => {
                let now = Utc::now();
                let exp = now + chrono::Duration::milliseconds((secs * 1000.0) as i64);
                on_pool!(self.write(), |p| {
                    sqlx::query_scalar(
                        "INSERT INTO leases (name, holder, token, expires_at)
                         VALUES ($1, $2, 1, $4)
                         ON CONFLICT (name) DO UPDATE SET
                           token = CASE WHEN leases.holder = excluded.holder THEN leases.token ELSE leases.token + 1 END,
                           holder = excluded.holder,
                           expires_at = excluded.expires_at
                         WHERE leases.holder = excluded.holder OR leases.expires_at < $3
                         RETURNING token",
                    )
                    .bind(name)
                    .bind(holder)
                    .bind(now)
                    .bind(exp)
                    .fetch_optional(p)
                    .await
                })?
            }
        };
        Ok(token.map(|token| Lease {
            name: name.to_string(),
            holder: holder.to_string(),
            token,
        }))
    }

    /// Give a lease up (on shutdown) so another replica can take it at once.
    pub async fn release_lease(&self, lease: &Lease) -> Result<(), sqlx::Error> {
        on_pool!(self.write(), |p| {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2 AND token = $3")
                .bind(&lease.name)
                .bind(&lease.holder)
                .bind(lease.token)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Whether `lease` is still current (same holder and token, unexpired):
    /// the fencing check before a write made under it.
    pub async fn lease_valid(&self, lease: &Lease) -> Result<bool, sqlx::Error> {
        let n: i64 = match self.engine() {
            Engine::Postgres => on_pool!(self.read(), |p| {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM leases WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > now()",
                )
                .bind(&lease.name)
                .bind(&lease.holder)
                .bind(lease.token)
                .fetch_one(p)
                .await
            })?,
            Engine::Sqlite => on_pool!(self.read(), |p| {
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM leases WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > $4",
                )
                .bind(&lease.name)
                .bind(&lease.holder)
                .bind(lease.token)
                .bind(Utc::now())
                .fetch_one(p)
                .await
            })?,
        };
        Ok(n > 0)
    }
}
