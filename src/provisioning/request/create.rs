//! `request_resource`: an agent's ask for a resource, created or changed.

use serde_json::{Value, json};

use super::{budget_and_resource, insert_request, writable_project_locked};
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::provisioning::Provisioner;
use crate::provisioning::admission::{self, Admission, Budget, Facts};
use crate::provisioning::approver;
use crate::provisioning::ask::{NAME_PATTERN, ResourceAsk};
use crate::provisioning::history::{self, History};
use crate::provisioning::view::{RequestView, UnarmedPlan};
use crate::provisioning::{
    Request, RequestKind, RequestState, Resource, ResourceState, estimate, gate, grants,
    valid_resource_name,
};

/// The request that answers a repeated ask, if this ask is one: the change
/// in flight when it asks for the same spec, else (nothing in flight) the
/// apply that made a fulfilled resource, or the plan of an unarmed record.
fn idempotent_answer(
    r: &Resource,
    hist: &History,
    in_flight: &[Request],
    spec: &Value,
) -> Option<Request> {
    if let Some(latest) = in_flight.last() {
        return gate::same_spec(&latest.spec, spec).then(|| latest.clone());
    }
    match r.state {
        ResourceState::Fulfilled if gate::same_spec(&r.spec, spec) => hist.last_applied.clone(),
        ResourceState::Planned if gate::same_spec(&r.spec, spec) => hist.latest.clone(),
        _ => None,
    }
}

/// What an ask did: made a new request, or answered with one that exists
/// (the same ask again). The door says 202 for the one and 200 for the
/// other; both carry the request record.
#[derive(Debug)]
pub enum Asked {
    Created(RequestView),
    Existing(RequestView),
}

impl Asked {
    /// The request record, whichever it was.
    pub fn into_body(self) -> RequestView {
        match self {
            Asked::Created(v) | Asked::Existing(v) => v,
        }
    }
}

pub async fn request_resource(
    pv: Provisioner<'_>,
    p: &Principal,
    project_id: &str,
    ask: &ResourceAsk,
) -> Result<Asked> {
    let m = pv
        .catalog
        .get(&ask.service)
        .ok_or_else(|| Error::NotFound {
            what: format!("service {}", ask.service),
            hint: "call list_services for the catalog".into(),
        })?;
    let name = ask.name.as_str();
    if !valid_resource_name(name) {
        return Err(Error::invalid(
            "name",
            format!("must match {NAME_PATTERN} (lower-case letters, digits, dashes)"),
        ));
    }
    let spec = gate::effective_spec(m, ask.spec.as_ref(), name)?;
    let armed = pv.config.terraform.is_some();
    let account = if armed {
        gate::target_account(m, &pv.config.allowed)?
    } else {
        None
    };
    let est = m.estimate_cents(&spec);
    let spec_text = spec.to_string();

    // From the first statement to the commit this holds the project's lock
    // (Postgres) or the single writer (SQLite): every ask into the project
    // waits for it, so what follows reads in as few statements as it can.
    let mut tx = pv.store.begin().await?;
    let pr = writable_project_locked(&mut tx, pv.store.engine(), p, project_id).await?;
    // A refusal of the grants is the admission rule's to order; a failed
    // read is not a refusal.
    let grants = match grants::enforce(
        &mut tx,
        pv.catalog,
        m,
        &pr.id,
        &spec,
        &pv.config.file.provisioning.grant_allowlist,
    )
    .await
    {
        Err(e @ Error::Internal(_)) => return Err(e),
        checked => checked,
    };
    let (others, existing) = budget_and_resource(&mut tx, &pr.id, &m.id, name).await?;
    let rows = match &existing {
        Some(r) => history::rows(&mut tx, &r.id).await?,
        None => Vec::new(),
    };
    let in_flight: Vec<Request> = rows
        .iter()
        .filter(|r| estimate::is_in_flight(r))
        .cloned()
        .collect();
    // A destroy waiting for a person is that person's to decide: a new ask
    // neither closes it nor slips past it.
    if let Some(d) = rows
        .iter()
        .find(|r| r.kind == RequestKind::Destroy && r.state == RequestState::PendingApproval)
    {
        return Err(Error::conflict(
            format!("{name} has a destroy waiting for approval ({})", d.id),
            "wait for an admin's decision on that request (get_request), or ask one to reject it, then ask again",
        ));
    }
    let waiting = rows
        .iter()
        .any(|r| r.state == RequestState::PendingApproval);
    let hist = history::summarise(rows);
    // Changing what a person let through needs a person again, also when
    // that run failed half-way (objects may exist).
    let gated = hist.gated;
    let repeat = existing
        .as_ref()
        // An unarmed replica may answer for an armed resource, never change it.
        .filter(|r| r.armed || !armed)
        .and_then(|r| idempotent_answer(r, &hist, &in_flight, &spec).map(|req| (r, req)));
    // The spec the cloud runs now; a change leaves it in place until the
    // change itself is applied, so kill, unkill and retries never run an
    // unapproved spec.
    let applied = hist.last_applied.as_ref();
    let before = existing
        .as_ref()
        .filter(|r| r.state.commits_budget())
        .map_or(0, |r| r.estimate_cents);
    // Queued changes stay and run in order, so they keep counting; a
    // waiting one is superseded by this ask below.
    let after = estimate::committed(
        applied.map(|a| estimate::of_spec(pv.catalog, &m.id, &a.spec).unwrap_or(before)),
        in_flight
            .iter()
            .filter(|r| r.state != RequestState::PendingApproval)
            .map(|r| estimate::of_spec(pv.catalog, &m.id, &r.spec).unwrap_or(before))
            .chain([est]),
    );
    let (allowlisted, grant_refusal) = match grants {
        Ok(list) => (list, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let verdict = admission::admit(Facts {
        project: &pr,
        service: m,
        grant_refusal,
        existing: existing.as_ref(),
        repeat: repeat.is_some(),
        gated,
        armed,
        budget: Budget {
            budget: pr.budget_cents,
            others,
            before,
            after,
            estimate: est,
        },
        policy: &pv.config.file.provisioning.auto_approve,
        now: tx.now(),
    });
    let approval = match verdict {
        Admission::Refused(e) => return Err(e),
        Admission::Repeat => {
            // Idempotent: the same ask returns what exists or is on its way.
            tx.commit().await?;
            let Some((r, req)) = repeat else {
                unreachable!("a repeat has its request")
            };
            let mut v = req.view(Some(r));
            v.idempotent = Some(true);
            approver::annotate(pv, &mut v);
            return Ok(Asked::Existing(v));
        }
        Admission::NeedsApproval(why) => Some(why),
        Admission::AutoApproved => None,
    };
    let recorded = approval.as_deref().map(admission::recorded);
    let approval = approval.as_deref().map(admission::why_text);
    let state = if !armed {
        RequestState::Planned
    } else if approval.is_some() {
        RequestState::PendingApproval
    } else {
        RequestState::Queued
    };
    let now = pv.store.clock().now();
    let mut superseded: Vec<String> = Vec::new();
    let (resource_id, kind) = match &existing {
        Some(r) => {
            // An older ask still waiting for approval is closed: approving it
            // later would re-apply a spec the requester has since replaced.
            // Queued ones stay: requests for one resource run one after the
            // other, in order, so the newest still wins.
            if waiting {
                superseded = on_tx!(&mut tx, |c| {
                    sqlx::query_scalar::<_, String>("UPDATE requests SET state = 'rejected', decision_reason = 'superseded by a newer request', updated_at = $1 WHERE resource_id = $2 AND state = 'pending_approval' RETURNING id")
                        .bind(now).bind(&r.id).fetch_all(&mut *c).await
                })?;
            }
            if applied.is_some() {
                // An update: the resource keeps its applied spec and state;
                // the change lives on its request until it is applied.
                on_tx!(&mut tx, |c| {
                    sqlx::query(
                        "UPDATE resources SET estimate_cents = $1, updated_at = $2 WHERE id = $3",
                    )
                    .bind(after)
                    .bind(now)
                    .bind(&r.id)
                    .execute(&mut *c)
                    .await
                    .map(|r| r.rows_affected())
                })?;
                (r.id.clone(), RequestKind::Update)
            } else {
                // Nothing was applied yet: the resource is this ask.
                on_tx!(&mut tx, |c| {
                    sqlx::query("UPDATE resources SET spec = $1, state = $2, armed = $3, account = $4, estimate_cents = $5, last_error = NULL, updated_at = $6 WHERE id = $7")
                        .bind(&spec_text).bind(ResourceState::of_create(state)).bind(armed).bind(&account).bind(after).bind(now).bind(&r.id)
                        .execute(&mut *c).await.map(|r| r.rows_affected())
                })?;
                (r.id.clone(), RequestKind::Create)
            }
        }
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            on_tx!(&mut tx, |c| {
                sqlx::query(
                    "INSERT INTO resources (id, project_id, service, name, spec, state, armed, cloud, account, outputs, estimate_cents, suspended, created_by, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '{}', $10, FALSE, $11, $12, $12)",
                )
                .bind(&id).bind(&pr.id).bind(&m.id).bind(name).bind(&spec_text).bind(ResourceState::of_create(state)).bind(armed)
                .bind(&m.cloud).bind(&account).bind(est).bind(p.actor()).bind(now)
                .execute(&mut *c).await.map(|r| r.rows_affected())
            })?;
            (id, RequestKind::Create)
        }
    };
    let req_id = insert_request(
        &mut tx,
        &resource_id,
        &pr.id,
        kind,
        &spec_text,
        state,
        recorded.as_deref(),
        p,
    )
    .await?;
    audit::record(
        &mut tx,
        Event::new(p, "resource.requested").project(&pr.id).target(&req_id).data(json!({
            "service": m.id, "name": name, "kind": kind, "state": state, "armed": armed,
            "estimate_monthly_usd": est as f64 / 100.0, "approval_reason": approval, "account": account,
            "superseded_requests": superseded, "allowlisted_grants": allowlisted,
        })),
    )
    .await?;
    tx.commit().await?;
    // Read the answer back after the commit: the transaction holds the
    // project's lock (Postgres) or the single writer (SQLite), and every
    // statement inside it delays the next concurrent request. The workers
    // are woken only after it, so the answer says what this call did
    // (`queued`), not how far a fast worker already got.
    let req = crate::provisioning::query::request(pv, &req_id).await;
    let res = crate::provisioning::query::resource(pv, &resource_id).await;
    pv.work.notify_one();
    let req = req?.ok_or_else(|| Error::not_found(format!("request {req_id}")))?;
    let res = res?.ok_or_else(|| Error::not_found(format!("resource {resource_id}")))?;
    let mut v = req.view(Some(&res));
    grants::annotate(pv, &mut v);
    if !armed {
        v.plan = Some(UnarmedPlan {
            armed: false,
            message: "provisioning is not armed on this Asgard: the request was validated and recorded, and nothing was created",
            service: m.id.clone(),
            module: m.module.clone(),
            inputs: spec,
            estimate_monthly_usd: est as f64 / 100.0,
            would_need_approval: approval.clone(),
        });
    }
    v.approval_reason = approval;
    approver::annotate(pv, &mut v);
    Ok(Asked::Created(v))
}
