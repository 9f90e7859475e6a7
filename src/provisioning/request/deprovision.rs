//! `deprovision`: queue the destruction of a resource. Destroying what a
//! person let through (its create needed an approval) waits for a person
//! too; withdrawing something that never ran does not.

use serde_json::json;

use super::{insert_request, latest_request, writable_project};
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::provisioning::{Provisioner, admission, approver};
use crate::provisioning::{
    RequestKind, RequestState, RequestView, Resource, ResourceState, estimate, history,
};
use crate::store::Tx;

/// Queue the destruction of a resource. Data-bearing resources need
/// `confirm`.
pub async fn deprovision(
    pv: Provisioner<'_>,
    p: &Principal,
    project_id: &str,
    resource_id: &str,
    confirm: bool,
) -> Result<RequestView> {
    let mut tx = pv.store.begin().await?;
    // The project's lock first (Postgres), as every change to its resources
    // takes it: two deprovisions at once cannot both park a destroy.
    super::lock_project(&mut tx, pv.store.engine(), project_id).await?;
    let pr = writable_project(&mut tx, p, project_id).await?;
    let r = crate::provisioning::query::resource_tx(&mut tx, resource_id)
        .await
        .ok()
        .filter(|r| r.project_id == pr.id)
        .ok_or_else(|| Error::not_found(format!("resource {resource_id}")))?;
    let req_id = deprovision_in(&mut tx, pv, p, &r, confirm, Gate::Policy).await?;
    let req = crate::provisioning::query::request_tx(&mut tx, &req_id).await?;
    let res = crate::provisioning::query::resource_tx(&mut tx, &r.id).await?;
    tx.commit().await?;
    pv.work.notify_one();
    let mut v = req.view(Some(&res));
    approver::annotate(pv, &mut v);
    Ok(v)
}

/// Whether a destroy follows the approval policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// An agent's or a person's deprovision: a gated resource waits.
    Policy,
    /// Part of a decommission, itself the authority's confirmed decision.
    Off,
}

/// Queue the destruction of `r` inside the caller's transaction (the caller
/// checked the project); answers the destroy request's id, the existing one
/// when the resource is already destroyed or being destroyed.
pub async fn deprovision_in(
    tx: &mut Tx,
    pv: Provisioner<'_>,
    p: &Principal,
    r: &Resource,
    confirm: bool,
    gate: Gate,
) -> Result<String> {
    let m = pv.catalog.get(&r.service);
    if m.is_some_and(|m| m.data_bearing) && !confirm {
        return Err(Error::invalid_hint(
            "confirm",
            format!("{} holds data: destroying it deletes that data", r.name),
            "send confirm: true to destroy it anyway",
        ));
    }
    if matches!(
        r.state,
        ResourceState::Destroyed | ResourceState::Destroying
    ) {
        let req = latest_request(tx, &r.id)
            .await?
            .ok_or_else(|| Error::not_found("request"))?;
        return Ok(req.id);
    }
    let h = history::of(tx, &r.id).await?;
    // Asked again while a destroy waits for approval: that request, whatever
    // came after it (a kill's suspend, say).
    if gate == Gate::Policy
        && let Some(id) = waiting_destroy(tx, &r.id).await?
    {
        return Ok(id);
    }
    let now = pv.store.clock().now();
    // Close it directly only when no run ever started (since the last
    // destroy): the resource's state alone (e.g. `rejected`) does not say
    // whether cloud objects exist. A run still going is followed by the
    // destroy (one run per resource at a time).
    let nothing_exists = !r.armed || !h.ever_ran;
    // What exists was let through by a person: its destroy waits for one
    // (on any replica, armed or not), and the resource stays exactly as it
    // is until the destroy is approved: nothing queued for it is cancelled
    // now (a kill's suspend, an approved update), only on approval.
    let gated = !nothing_exists && h.gated && gate == Gate::Policy;
    if !gated {
        cancel_unstarted(tx, pv, r, None, now).await?;
    }
    let approval = gated.then(|| admission::why_text(&[admission::gated_reason()]));
    let recorded = gated.then(|| admission::recorded(&[admission::gated_reason()]));
    let (state, res_state) = if nothing_exists {
        (RequestState::Fulfilled, ResourceState::Destroyed)
    } else if approval.is_some() {
        (RequestState::PendingApproval, r.state)
    } else {
        (RequestState::Queued, ResourceState::Destroying)
    };
    // Destroy with the inputs that were applied (or, when nothing applied,
    // that the last run started with), never a pending ask's.
    let destroy_spec = h
        .last_applied
        .as_ref()
        .or(h.last_started.as_ref())
        .map_or(r.spec.clone(), |a| a.spec.clone());
    on_tx!(tx, |c| {
        sqlx::query("UPDATE resources SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(res_state)
            .bind(now)
            .bind(&r.id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    let req_id = insert_request(
        tx,
        &r.id,
        &r.project_id,
        RequestKind::Destroy,
        &destroy_spec,
        state,
        recorded.as_deref(),
        p,
    )
    .await?;
    audit::record(
        tx,
        Event::new(p, "resource.deprovision_requested")
            .project(&r.project_id)
            .target(&req_id)
            .data(json!({"service": r.service, "name": r.name, "state": state, "approval_reason": approval})),
    )
    .await?;
    Ok(req_id)
}

/// The destroy of `resource_id` waiting for approval, if one is.
async fn waiting_destroy(tx: &mut Tx, resource_id: &str) -> Result<Option<String>> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM requests WHERE resource_id = $1 AND kind = 'destroy' AND state = 'pending_approval' ORDER BY created_at DESC LIMIT 1",
        )
        .bind(resource_id)
        .fetch_optional(&mut *c)
        .await
    })?)
}

/// Cancel what has not started for `r` before its destroy runs: a worker
/// claiming one of them at this moment either loses that race or shows up
/// as a run the destroy follows. The cancelled changes no longer count
/// against the budget. Run when a destroy is queued, or when a waiting one
/// is approved (`decide`).
pub(crate) async fn cancel_unstarted(
    tx: &mut Tx,
    pv: Provisioner<'_>,
    r: &Resource,
    except: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query("UPDATE requests SET state = 'rejected', decision_reason = 'superseded by deprovision', updated_at = $1 WHERE resource_id = $2 AND state IN ('pending_approval', 'queued') AND ($3 IS NULL OR id <> $3)")
            .bind(now).bind(&r.id).bind(except).execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    estimate::refresh(tx, pv.catalog, r).await.map(|_| ())
}
