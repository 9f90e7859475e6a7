//! `decide`: an admin approves or rejects a pending request.

use chrono::Utc;
use serde_json::Value;

use crate::app::App;
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::provisioning::history;

/// Approve or reject a pending request: admins only, never the requester.
pub async fn decide(
    app: &App,
    p: &Principal,
    request_id: &str,
    approve: bool,
    reason: Option<String>,
) -> Result<Value> {
    p.require_admin()?;
    let reason = crate::registry::validate::opt_text("reason", reason.as_deref(), 500)?;
    if !approve && reason.is_none() {
        return Err(Error::invalid("reason", "is required to reject a request"));
    }
    let mut tx = app.store.begin().await?;
    let req = crate::provisioning::query::request_tx(&mut tx, request_id).await?;
    // Not the requester, nor (for a key's request) the key's minter or the
    // project's owner: see `auth::duties`.
    crate::auth::duties::check(&mut tx, p, &req.requested_by, &req.project_id).await?;
    if req.state != "pending_approval" {
        return Err(Error::conflict(
            format!(
                "request {request_id} is {}, not pending approval",
                req.state
            ),
            "nothing to decide",
        ));
    }
    let (state, res_state) = if approve {
        ("queued", "queued")
    } else {
        ("rejected", "rejected")
    };
    let now = Utc::now();
    let n = on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE requests SET state = $1, decided_by = $2, decision_reason = $3, updated_at = $4 WHERE id = $5 AND state = 'pending_approval'")
            .bind(state).bind(p.actor()).bind(&reason).bind(now).bind(request_id)
            .execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(Error::conflict(
            "the request changed while you decided",
            "reload it",
        ));
    }
    // Rejecting an update leaves the resource as it was: fulfilled, with the
    // spec (and estimate) of its last successful apply. Marking it `rejected`
    // would make a later deprovision skip the destroy of what exists.
    let restore = if !approve && req.kind == "update" {
        history::of(&mut tx, &req.resource_id).await?.last_applied
    } else {
        None
    };
    if let Some(prev) = restore {
        let res = crate::provisioning::query::resource_tx(&mut tx, &req.resource_id).await?;
        let est = match (
            app.catalog.get(&res.service),
            serde_json::from_str::<Value>(&prev.spec),
        ) {
            (Some(m), Ok(spec)) => m.estimate_cents(&spec),
            _ => res.estimate_cents,
        };
        on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE resources SET state = 'fulfilled', spec = $1, estimate_cents = $2, updated_at = $3 WHERE id = $4")
                .bind(&prev.spec)
                .bind(est)
                .bind(now)
                .bind(&req.resource_id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
    } else {
        on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE resources SET state = $1, updated_at = $2 WHERE id = $3")
                .bind(res_state)
                .bind(now)
                .bind(&req.resource_id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    let action = if approve {
        "request.approved"
    } else {
        "request.rejected"
    };
    audit::record(
        &mut tx,
        Event::new(p, action)
            .project(&req.project_id)
            .target(request_id)
            .reason(reason.as_deref()),
    )
    .await?;
    let req = crate::provisioning::query::request_tx(&mut tx, request_id).await?;
    let res = crate::provisioning::query::resource_tx(&mut tx, &req.resource_id).await?;
    tx.commit().await?;
    app.work.notify_one();
    Ok(req.to_json(Some(&res)))
}
