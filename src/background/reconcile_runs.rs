//! Re-queues provisioning runs whose replica died: a request still
//! `running` whose resource lease has expired (or vanished) goes back to
//! `queued`, or to `failed` after three attempts. Terraform state is in the
//! DB, so the next run resumes from what the dead one last wrote.
//!
//! No grace period on top of the lease: a worker takes the resource's lease
//! before it marks a request `running` (`provisioning::worker::claim`) and
//! gives it up only after recording the outcome, so a running request with
//! no live lease has lost its replica. Failover is bounded by the lease
//! expiry (`lease_ttl_secs`) plus this loop's period.

use crate::app::App;
use crate::audit::{self, Event};
use crate::error::Result;
use crate::store::Store;

const MAX_ATTEMPTS: i64 = 3;

pub async fn tick(app: &App) -> Result<()> {
    requeue_stale(&app.store).await?;
    if app.config.terraform.is_some() {
        app.work.notify_one();
    }
    Ok(())
}

/// The tick's work on a bare store: returns how many runs it re-queued or
/// gave up on (the store contract suite runs it with a fake clock).
pub async fn requeue_stale(store: &Store) -> Result<usize> {
    let now = store.clock().now();
    let mut changed = 0;
    // A read on the reader path: looking flushes no cache.
    let stale: Vec<(String, i64, String)> = on_pool!(store.read(), |p| {
        sqlx::query_as(
        "SELECT r.id, r.attempts, r.project_id FROM requests r
         WHERE r.state = 'running'
           AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = 'resource:' || r.resource_id AND l.expires_at > $1)"
    )
    .bind(now)
    .fetch_all(p)
    .await
    })?;
    for (id, attempts, project) in stale {
        let giving_up = attempts >= MAX_ATTEMPTS;
        let (state, reason) = if giving_up {
            (
                "failed",
                Some(format!(
                    "the replica running it stopped {attempts} times; giving up"
                )),
            )
        } else {
            ("queued", None)
        };
        let mut tx = store.begin().await?;
        let n = on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE requests SET state = $1, error = $2, claimed_by = NULL, updated_at = $3 WHERE id = $4 AND state = 'running'")
                .bind(state)
                .bind(&reason)
                .bind(now)
                .bind(&id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
        if n == 1 {
            changed += 1;
            if giving_up {
                on_tx!(&mut tx, |c| {
                    sqlx::query("UPDATE resources SET state = 'failed', last_error = $1 WHERE id = (SELECT resource_id FROM requests WHERE id = $2)")
                        .bind(&reason)
                        .bind(&id)
                        .execute(&mut *c)
                        .await
                        .map(|r| r.rows_affected())
                })?;
            }
            let action = if giving_up {
                "request.abandoned"
            } else {
                "request.requeued"
            };
            audit::record(
                &mut tx,
                Event::system("system:reconciler", action)
                    .project(&project)
                    .target(&id)
                    .reason(reason.as_deref()),
            )
            .await?;
        }
        tx.commit().await?;
        tracing::warn!(request_id = %id, state, "re-queued a run whose replica stopped");
    }
    Ok(changed)
}
