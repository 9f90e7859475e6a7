//! An admin approves or rejects a governance request. The approver is the
//! credential's, never the body's; separation of duties is the same as for
//! provisioning requests (`auth::duties`). A promotion's evidence and the
//! project's tier are checked again on approval, so evidence removed (or a
//! tier changed) since the ask stops it; an extension's approval moves the
//! review date.

use serde_json::json;

use super::promote::refusal_error;
use super::review::apply_extension;
use super::{GovKind, GovState, GovernanceRequestView, fetch_tx, locked_project, set_tier};
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::governance::promotion;
use crate::governance::review;
use crate::registry::Registry;

pub async fn decide(
    reg: Registry<'_>,
    p: &Principal,
    request_id: &str,
    approve: bool,
    reason: Option<String>,
) -> Result<GovernanceRequestView> {
    p.require_admin()?;
    let reason = crate::registry::validate::opt_text("reason", reason.as_deref(), 500)?;
    if !approve && reason.is_none() {
        return Err(Error::invalid("reason", "is required to reject a request"));
    }
    let mut tx = reg.store.begin().await?;
    let req = fetch_tx(&mut tx, request_id).await?;
    crate::auth::duties::check(
        &mut tx,
        p,
        &req.requested_by,
        req.requested_by_user_id.as_deref(),
        &req.project_id,
    )
    .await?;
    if req.state != GovState::PendingApproval {
        return Err(Error::conflict(
            format!(
                "request {request_id} is {}, not pending approval",
                req.state
            ),
            "nothing to decide",
        ));
    }
    let pr = locked_project(&mut tx, reg.store.engine(), &req.project_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("project {}", req.project_id)))?;
    let mut after = None;
    if approve {
        pr.require_live()?;
        let now = tx.now();
        match req.kind {
            GovKind::Promotion => {
                let (Some(from), Some(to)) = (req.from_tier, req.to_tier) else {
                    return Err(Error::internal(anyhow::anyhow!(
                        "promotion request {request_id} has no tiers"
                    )));
                };
                if pr.classification != from {
                    return Err(Error::conflict(
                        format!(
                            "project {} is {} now, not {} as when this was asked",
                            pr.id,
                            pr.classification.as_str(),
                            from.as_str()
                        ),
                        "reject it; the project can ask again from its current tier",
                    ));
                }
                let ev = pr.evidence_map();
                promotion::plan(
                    from,
                    to,
                    pr.killed,
                    &ev,
                    &reg.config.file.classification_requirements,
                )
                .map_err(|r| match refusal_error(&pr.id, to, r) {
                    Error::Conflict { message, .. } => Error::conflict(
                        format!("the promotion can no longer be approved: {message}"),
                        "reject it, or wait for the evidence to be restored",
                    ),
                    e => e,
                })?;
                let due = review::due_date(to, now, &ev, &reg.config.file.review);
                let due = set_tier(&mut tx, &pr.id, to, pr.review_date, due, now).await?;
                audit::record(
                    &mut tx,
                    Event::new(p, "project.promoted")
                        .project(&pr.id)
                        .target(&pr.id)
                        .reason(reason.as_deref())
                        .data(json!({"from": from, "to": to, "review_date": due, "request_id": request_id})),
                )
                .await?;
            }
            GovKind::ReviewExtension => {
                after =
                    Some(apply_extension(&mut tx, reg, p, &pr, false, reason.as_deref()).await?);
            }
        }
    }
    let state = if approve {
        GovState::Approved
    } else {
        GovState::Rejected
    };
    let now = tx.now();
    let n = on_tx!(&mut tx, |c| {
        sqlx::query(
        "UPDATE governance_requests SET state = $1, decided_by = $2, decision_reason = $3, decided_at = $4, updated_at = $4,
           review_date_after = COALESCE($5, review_date_after)
         WHERE id = $6 AND state = 'pending_approval'"
    )
    .bind(state)
    .bind(p.actor())
    .bind(&reason)
    .bind(now)
    .bind(after)
    .bind(request_id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(Error::conflict(
            "the request changed while you decided",
            "reload it",
        ));
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
            .reason(reason.as_deref())
            .data(json!({"type": "governance", "kind": req.kind})),
    )
    .await?;
    let out = fetch_tx(&mut tx, request_id).await?;
    tx.commit().await?;
    Ok(out.view())
}
