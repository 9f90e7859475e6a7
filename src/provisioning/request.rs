//! Turning an agent's ask into a request row (SPEC §6.3): validate, gate,
//! reserve budget atomically, then `planned` (unarmed), `pending_approval`
//! or `queued`. Also teardown, and the approve/reject decisions.

use chrono::Utc;
use serde_json::{Value, json};

use super::{REQUEST_COLS, RESOURCE_COLS, Request, Resource, gate, history, valid_resource_name};
use crate::app::App;
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::governance::Classification;
use crate::registry::{Project, projects};
use crate::store::{Engine, Tx};

/// Live states: the resource exists or is about to; its estimate counts.
pub const COMMITTED: &str =
    "('pending_approval','queued','running','fulfilled','failed','destroying','destroy_failed')";

pub async fn writable_project(tx: &mut Tx, p: &Principal, project_id: &str) -> Result<Project> {
    p.require_writer()?;
    let pr = projects::fetch_tx(tx, project_id)
        .await?
        .filter(|c| c.visible_to(p))
        .ok_or_else(|| Error::not_found(format!("project {project_id}")))?;
    if !pr.writable_by(p) {
        pr.require_authority(p)?;
    }
    Ok(pr)
}

/// Serialise budget checks per project: Postgres locks the project row;
/// SQLite has one writer already.
async fn lock_project(tx: &mut Tx, engine: Engine, id: &str) -> Result<()> {
    if engine == Engine::Postgres {
        on_tx!(tx, |c| sqlx::query(
            "SELECT id FROM projects WHERE id = $1 FOR UPDATE"
        )
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

async fn committed_cents(tx: &mut Tx, project: &str, except_resource: Option<&str>) -> Result<i64> {
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(estimate_cents), 0) AS BIGINT) FROM resources WHERE project_id = $1 AND state IN {COMMITTED} AND ($2 IS NULL OR id <> $2)"
    );
    let v: i64 = on_tx!(tx, |c| sqlx::query_scalar::<_, i64>(&sql)
        .bind(project)
        .bind(except_resource)
        .fetch_one(&mut *c)
        .await)?;
    Ok(v)
}

pub async fn resource_by_name(
    tx: &mut Tx,
    project: &str,
    service: &str,
    name: &str,
) -> Result<Option<Resource>> {
    let sql = format!(
        "SELECT {RESOURCE_COLS} FROM resources WHERE project_id = $1 AND service = $2 AND name = $3"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Resource>(&sql)
        .bind(project)
        .bind(service)
        .bind(name)
        .fetch_optional(&mut *c)
        .await)?)
}

pub async fn latest_request(tx: &mut Tx, resource_id: &str) -> Result<Option<Request>> {
    let sql = format!(
        "SELECT {REQUEST_COLS} FROM requests WHERE resource_id = $1 ORDER BY created_at DESC LIMIT 1"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Request>(&sql)
        .bind(resource_id)
        .fetch_optional(&mut *c)
        .await)?)
}

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
    let req = super::query::request(app, &req_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("request {req_id}")))?;
    let res = super::query::resource(app, &resource_id)
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

#[allow(clippy::too_many_arguments)]
pub async fn insert_request(
    tx: &mut Tx,
    resource_id: &str,
    project: &str,
    kind: &str,
    spec: &str,
    state: &str,
    needs_approval: bool,
    by: &str,
) -> Result<String> {
    let id = format!("req-{}", uuid::Uuid::new_v4().simple());
    let now = Utc::now();
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO requests (id, resource_id, project_id, kind, spec, state, needs_approval, requested_by, attempts, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $9)",
        )
        .bind(&id).bind(resource_id).bind(project).bind(kind).bind(spec).bind(state).bind(needs_approval).bind(by).bind(now)
        .execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    Ok(id)
}

/// Queue the destruction of a resource (SPEC §6.6). Data-bearing resources
/// need `confirm`.
pub async fn deprovision(
    app: &App,
    p: &Principal,
    project_id: &str,
    resource_id: &str,
    confirm: bool,
) -> Result<Value> {
    let mut tx = app.store.begin().await?;
    let pr = writable_project(&mut tx, p, project_id).await?;
    let r = super::query::resource_tx(&mut tx, resource_id)
        .await
        .ok()
        .filter(|r| r.project_id == pr.id)
        .ok_or_else(|| Error::not_found(format!("resource {resource_id}")))?;
    let m = app.catalog.get(&r.service);
    if m.is_some_and(|m| m.data_bearing) && !confirm {
        return Err(Error::invalid_hint(
            "confirm",
            format!("{} holds data: destroying it deletes that data", r.name),
            "send confirm: true to destroy it anyway",
        ));
    }
    if matches!(r.state.as_str(), "destroyed" | "destroying") {
        let req = latest_request(&mut tx, &r.id)
            .await?
            .ok_or_else(|| Error::not_found("request"))?;
        tx.commit().await?;
        return Ok(req.to_json(Some(&r)));
    }
    let now = Utc::now();
    // Cancel what has not started first: a worker claiming one of them at this
    // moment either loses that race or shows up below as a run.
    on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE requests SET state = 'rejected', decision_reason = 'superseded by deprovision', updated_at = $1 WHERE resource_id = $2 AND state IN ('pending_approval', 'queued')")
            .bind(now).bind(&r.id).execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    // Close it directly only when no run ever started (since the last
    // destroy): the resource's state alone (e.g. `pending_approval` for an
    // update, or `rejected`) does not say whether cloud objects exist. A run
    // still going is followed by the destroy (one run per resource at a time).
    let h = history::of(&mut tx, &r.id).await?;
    let nothing_exists = !r.armed || !h.ever_ran;
    let (state, res_state) = if nothing_exists {
        ("fulfilled", "destroyed")
    } else {
        ("queued", "destroying")
    };
    // Destroy with the inputs that were applied, not a pending ask's.
    let destroy_spec = h
        .last_applied
        .as_ref()
        .map_or(r.spec.clone(), |a| a.spec.clone());
    on_tx!(&mut tx, |c| {
        sqlx::query("UPDATE resources SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(res_state)
            .bind(now)
            .bind(&r.id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    let req_id = insert_request(
        &mut tx,
        &r.id,
        &pr.id,
        "destroy",
        &destroy_spec,
        state,
        false,
        &p.actor(),
    )
    .await?;
    audit::record(
        &mut tx,
        Event::new(p, "resource.deprovision_requested")
            .project(&pr.id)
            .target(&req_id)
            .data(json!({"service": r.service, "name": r.name})),
    )
    .await?;
    let req = super::query::request_tx(&mut tx, &req_id).await?;
    let res = super::query::resource_tx(&mut tx, &r.id).await?;
    tx.commit().await?;
    app.work.notify_one();
    Ok(req.to_json(Some(&res)))
}

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
    let req = super::query::request_tx(&mut tx, request_id).await?;
    if req.requested_by == p.actor() {
        return Err(Error::forbidden(
            "you cannot decide your own request",
            "ask another admin",
        ));
    }
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
        let res = super::query::resource_tx(&mut tx, &req.resource_id).await?;
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
    let req = super::query::request_tx(&mut tx, request_id).await?;
    let res = super::query::resource_tx(&mut tx, &req.resource_id).await?;
    tx.commit().await?;
    app.work.notify_one();
    Ok(req.to_json(Some(&res)))
}
