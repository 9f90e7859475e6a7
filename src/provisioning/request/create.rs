//! `request_resource`: an agent's ask for a resource, created or changed.

use chrono::Utc;
use serde_json::{Value, json};

use super::{
    committed_cents, insert_request, latest_request, lock_project, resource_by_name,
    writable_project,
};
use crate::app::App;
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::governance::Classification;
use crate::provisioning::{Request, Resource, gate, history, valid_resource_name};
use crate::store::Tx;

/// The request that answers a repeated ask: the latest one, except that a
/// fulfilled resource (whose latest request may be a rejected update) is
/// answered with the apply that made it.
async fn idempotent_answer(tx: &mut Tx, r: &Resource) -> Result<Option<Request>> {
    if r.state == "fulfilled"
        && let Some(req) = history::of(tx, &r.id).await?.last_applied
    {
        return Ok(Some(req));
    }
    latest_request(tx, &r.id).await
}

pub struct NewRequest<'a> {
    pub project_id: &'a str,
    pub service: &'a str,
    pub name: &'a str,
    pub spec: Option<&'a Value>,
}

pub async fn request_resource(app: &App, p: &Principal, n: NewRequest<'_>) -> Result<Value> {
    let m = app.catalog.get(n.service).ok_or_else(|| Error::NotFound {
        what: format!("service {}", n.service),
        hint: "call list_services for the catalog".into(),
    })?;
    if !valid_resource_name(n.name) {
        return Err(Error::invalid(
            "name",
            "must match ^[a-z][a-z0-9-]{1,40}$ (lower-case letters, digits, dashes)",
        ));
    }
    let spec = gate::effective_spec(m, n.spec, n.name)?;
    let armed = app.config.terraform.is_some();
    let account = if armed {
        gate::target_account(m, &app.config.allowed)?
    } else {
        None
    };
    let est = m.estimate_cents(&spec);
    let spec_text = spec.to_string();

    let mut tx = app.store.begin().await?;
    let pr = writable_project(&mut tx, p, n.project_id).await?;
    pr.require_live()?;
    let tier = Classification::parse(&pr.classification).unwrap_or_default();
    gate::check_tier(m, tier)?;
    lock_project(&mut tx, app.store.engine(), &pr.id).await?;

    let existing = resource_by_name(&mut tx, &pr.id, &m.id, n.name).await?;
    if let Some(r) = &existing
        && gate::same_spec(&r.spec, &spec)
        && r.armed == armed
        && matches!(
            r.state.as_str(),
            "pending_approval" | "queued" | "running" | "fulfilled" | "planned"
        )
        && let Some(req) = idempotent_answer(&mut tx, r).await?
    {
        // Idempotent: the same ask returns what exists.
        tx.commit().await?;
        let mut v = req.to_json(Some(r));
        v["idempotent"] = json!(true);
        return Ok(v);
    }
    let committed =
        committed_cents(&mut tx, &pr.id, existing.as_ref().map(|r| r.id.as_str())).await?;
    if pr.budget_cents > 0 && committed + est > pr.budget_cents {
        return Err(Error::forbidden(
            format!(
                "over budget: {} committed + {} for this request > {} USD/month",
                committed as f64 / 100.0,
                est as f64 / 100.0,
                pr.budget_cents as f64 / 100.0
            ),
            "raise the project's budget_usd, or deprovision something first",
        ));
    }
    let approval = gate::approval_reason(
        m,
        tier,
        est,
        committed,
        &app.config.file.provisioning.auto_approve,
    );
    let state = if !armed {
        "planned"
    } else if approval.is_some() {
        "pending_approval"
    } else {
        "queued"
    };
    let now = Utc::now();
    let mut superseded: Vec<String> = Vec::new();
    let (resource_id, kind) = match &existing {
        Some(r) => {
            // A change while an update still waits (or is queued) changes a
            // resource that exists too: it is an update as well, so rejecting
            // it restores the applied spec.
            let changes_applied = r.state == "fulfilled"
                || (matches!(r.state.as_str(), "pending_approval" | "queued")
                    && history::of(&mut tx, &r.id).await?.last_applied.is_some());
            let kind = if changes_applied { "update" } else { "create" };
            // An older ask still waiting for approval is closed: approving it
            // later would re-apply a spec the requester has since replaced.
            // Queued ones stay: requests for one resource run one after the
            // other, in order (SPEC §6.7), so the newest still wins.
            superseded = on_tx!(&mut tx, |c| {
                sqlx::query_scalar::<_, String>("UPDATE requests SET state = 'rejected', decision_reason = 'superseded by a newer request', updated_at = $1 WHERE resource_id = $2 AND state = 'pending_approval' RETURNING id")
                    .bind(now).bind(&r.id).fetch_all(&mut *c).await
            })?;
            on_tx!(&mut tx, |c| {
                sqlx::query("UPDATE resources SET spec = $1, state = $2, armed = $3, account = $4, estimate_cents = $5, last_error = NULL, updated_at = $6 WHERE id = $7")
                    .bind(&spec_text).bind(state).bind(armed).bind(&account).bind(est).bind(now).bind(&r.id)
                    .execute(&mut *c).await.map(|r| r.rows_affected())
            })?;
            (r.id.clone(), kind)
        }
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            on_tx!(&mut tx, |c| {
                sqlx::query(
                    "INSERT INTO resources (id, project_id, service, name, spec, state, armed, cloud, account, outputs, estimate_cents, suspended, created_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '{}', $10, FALSE, $11, $12, $12)",
                )
                .bind(&id).bind(&pr.id).bind(&m.id).bind(n.name).bind(&spec_text).bind(state).bind(armed)
                .bind(&m.cloud).bind(&account).bind(est).bind(p.actor()).bind(now)
                .execute(&mut *c).await.map(|r| r.rows_affected())
            })?;
            (id, "create")
        }
    };
    let req_id = insert_request(
        &mut tx,
        &resource_id,
        &pr.id,
        kind,
        &spec_text,
        state,
        approval.is_some(),
        &p.actor(),
    )
    .await?;
    audit::record(
        &mut tx,
        Event::new(p, "resource.requested").project(&pr.id).target(&req_id).data(json!({
            "service": m.id, "name": n.name, "kind": kind, "state": state, "armed": armed,
            "estimate_monthly_usd": est as f64 / 100.0, "approval_reason": approval, "account": account,
            "superseded_requests": superseded,
        })),
    )
    .await?;
    tx.commit().await?;
    app.work.notify_one();
    // Read the answer back after the commit: the transaction holds the
    // project's lock (Postgres) or the single writer (SQLite), and every
    // statement inside it delays the next concurrent request.
    let req = crate::provisioning::query::request(app, &req_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("request {req_id}")))?;
    let res = crate::provisioning::query::resource(app, &resource_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("resource {resource_id}")))?;
    let mut v = req.to_json(Some(&res));
    if !armed {
        v["plan"] = json!({
            "armed": false,
            "message": "provisioning is not armed on this Asgard: the request was validated and recorded, and nothing was created",
            "service": m.id, "module": m.module, "inputs": spec,
            "estimate_monthly_usd": est as f64 / 100.0,
            "would_need_approval": approval,
        });
    }
    if let Some(reason) = approval {
        v["approval_reason"] = json!(reason);
    }
    Ok(v)
}
