//! `decide`: an admin approves or rejects a pending request.

use serde_json::Value;

use super::{committed_cents, lock_project};
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::provisioning::Provisioner;
use crate::provisioning::{
    Request, RequestKind, RequestState, RequestView, ResourceState, estimate, grants, history,
    query,
};
use crate::registry::projects;
use crate::store::Tx;

/// Approve or reject a pending request: admins only, never the requester.
pub async fn decide(
    pv: Provisioner<'_>,
    p: &Principal,
    request_id: &str,
    approve: bool,
    reason: Option<String>,
) -> Result<RequestView> {
    p.require_admin()?;
    let reason = crate::registry::validate::opt_text("reason", reason.as_deref(), 500)?;
    if !approve && reason.is_none() {
        return Err(Error::invalid("reason", "is required to reject a request"));
    }
    let mut tx = pv.store.begin().await?;
    let req = query::request_tx(&mut tx, request_id).await?;
    // Not the requester, nor (for a key's request) the key's minter or the
    // project's owner: see `auth::duties`.
    crate::auth::duties::check(
        &mut tx,
        p,
        &req.requested_by,
        req.requested_by_user_id.as_deref(),
        &req.project_id,
    )
    .await?;
    if req.state != RequestState::PendingApproval {
        return Err(Error::conflict(
            format!(
                "request {request_id} is {}, not pending approval",
                req.state
            ),
            "nothing to decide",
        ));
    }
    if approve {
        admit_on_approval(pv, &mut tx, &req).await?;
    }
    let state = if approve {
        RequestState::Queued
    } else {
        RequestState::Rejected
    };
    let now = pv.store.clock().now();
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
    let res = query::resource_tx(&mut tx, &req.resource_id).await?;
    // A decision on a change to an applied resource leaves the resource as it
    // is: its applied spec and state describe the cloud until the change is
    // applied. Marking it `rejected` would make a later deprovision skip the
    // destroy of what exists.
    let h = history::of(&mut tx, &req.resource_id).await?;
    // A create that never applied takes the decision's state, unless another
    // ask of it is still queued or running (a rejected re-ask must not take a
    // create still on its way out of the budget), or a run already started
    // (its `failed` state says objects may exist).
    let others_in_flight = !estimate::changes_in_flight(&mut tx, &req.resource_id)
        .await?
        .is_empty();
    let takes_state = h.last_applied.is_none() && (approve || (!others_in_flight && !h.ever_ran));
    if req.kind == RequestKind::Destroy {
        // An approved destroy starts now, and what was queued for the
        // resource meanwhile (a suspend, an update) is cancelled only now; a
        // rejected one leaves the resource, and all of that, as it was.
        if approve {
            super::deprovision::cancel_unstarted(&mut tx, pv, &res, Some(request_id), now).await?;
            on_tx!(&mut tx, |c| {
                sqlx::query("UPDATE resources SET state = $1, updated_at = $2 WHERE id = $3")
                    .bind(ResourceState::Destroying)
                    .bind(now)
                    .bind(&req.resource_id)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected())
            })?;
        }
    } else if takes_state {
        on_tx!(&mut tx, |c| {
            sqlx::query("UPDATE resources SET state = $1, updated_at = $2 WHERE id = $3")
                .bind(ResourceState::of_create(state))
                .bind(now)
                .bind(&req.resource_id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    // What the resource commits shrinks back to what still applies.
    estimate::refresh(&mut tx, pv.catalog, &res).await?;
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
    let req = query::request_tx(&mut tx, request_id).await?;
    let res = query::resource_tx(&mut tx, &req.resource_id).await?;
    tx.commit().await?;
    pv.work.notify_one();
    let mut v = req.view(Some(&res));
    crate::provisioning::approver::annotate(pv, &mut v);
    Ok(v)
}

/// Re-check the budget when a change is approved: the budget may have been
/// lowered since it was asked for. A change that does not raise what the
/// resource runs at is always let through.
async fn admit_on_approval(pv: Provisioner<'_>, tx: &mut Tx, req: &Request) -> Result<()> {
    lock_project(tx, pv.store.engine(), &req.project_id).await?;
    let pr = projects::fetch_tx(tx, &req.project_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("project {}", req.project_id)))?;
    // A destroy asks nothing of the budget or the grants: it only removes
    // what was let through before, and a killed project may shed what it
    // holds (its destroy would otherwise wait for as long as it is killed).
    if req.kind == RequestKind::Destroy {
        return Ok(());
    }
    // A killed or retired project takes no other approval: its runs would
    // not run.
    pr.require_live()?;
    let res = query::resource_tx(tx, &req.resource_id).await?;
    // The grants were the project's own when asked for; the resources they
    // name may have gone since, so check them again.
    if let (Some(m), Ok(spec)) = (
        pv.catalog.get(&res.service),
        serde_json::from_str::<Value>(&req.spec),
    ) {
        grants::enforce(
            tx,
            pv.catalog,
            m,
            &pr.id,
            &spec,
            &pv.config.file.provisioning.grant_allowlist,
        )
        .await
        .map_err(|e| {
            Error::conflict(
                format!("the request can no longer be approved: {}", e.message()),
                "reject it; the requester can ask again with grants on the project's own resources",
            )
        })?;
    }
    let applied = history::of(tx, &res.id)
        .await?
        .last_applied
        .and_then(|a| estimate::of_spec(pv.catalog, &res.service, &a.spec))
        .unwrap_or(0);
    let asked =
        estimate::of_spec(pv.catalog, &res.service, &req.spec).unwrap_or(res.estimate_cents);
    let others = committed_cents(tx, &pr.id, Some(&res.id)).await?;
    if !estimate::admits(pr.budget_cents, others, applied, applied.max(asked)) {
        return Err(Error::forbidden(
            format!(
                "over budget: approving it would commit {} USD/month against a budget of {}",
                (others + applied.max(asked)) as f64 / 100.0,
                pr.budget_cents as f64 / 100.0
            ),
            "raise the project's budget_usd first, or reject the request",
        ));
    }
    Ok(())
}
