//! Reads over resources, requests, secrets, cost and run logs, each scoped
//! to what the caller may see. `get_secret` is the one function that returns
//! a secret value; it audits `secret.read` without the value.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::inbox::{self, InboxItem, InboxPage};
use super::view::{
    CostLine, CostReport, RequestView, ResourceList, RunLog, SecretEntry, SecretList, SecretValue,
    SpendToDate,
};
use super::{REQUEST_COLS, RESOURCE_COLS, Request, Resource};
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::provisioning::Provisioner;
use crate::registry::{Project, cents_to_usd, projects};
use crate::secrets::store;
use crate::store::Tx;

pub async fn resource_tx(tx: &mut Tx, id: &str) -> Result<Resource> {
    let sql = format!("SELECT {RESOURCE_COLS} FROM resources WHERE id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, Resource>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?
    .ok_or_else(|| Error::not_found(format!("resource {id}")))
}

pub async fn request_tx(tx: &mut Tx, id: &str) -> Result<Request> {
    let sql = format!("SELECT {REQUEST_COLS} FROM requests WHERE id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, Request>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?
    .ok_or_else(|| Error::not_found(format!("request {id}")))
}

pub async fn resource(pv: Provisioner<'_>, id: &str) -> Result<Option<Resource>> {
    let sql = format!("SELECT {RESOURCE_COLS} FROM resources WHERE id = $1");
    Ok(on_pool!(pv.store.read(), |p| {
        sqlx::query_as::<_, Resource>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await
    })?)
}

pub async fn request(pv: Provisioner<'_>, id: &str) -> Result<Option<Request>> {
    let sql = format!("SELECT {REQUEST_COLS} FROM requests WHERE id = $1");
    Ok(on_pool!(pv.store.read(), |p| {
        sqlx::query_as::<_, Request>(&sql)
            .bind(id)
            .fetch_optional(p)
            .await
    })?)
}

/// Armed resources not destroyed: cloud objects may exist behind them.
pub async fn provisioned_count(pv: Provisioner<'_>) -> Result<i64> {
    Ok(on_pool!(pv.store.read(), |p| {
        sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM resources WHERE armed = TRUE AND state NOT IN ('destroyed', 'rejected')"
    )
    .fetch_one(p)
    .await
    })?)
}

/// A request the caller may see, with its resource.
pub async fn get_request(pv: Provisioner<'_>, p: &Principal, id: &str) -> Result<RequestView> {
    let req = request(pv, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("request {id}")))?;
    projects::get(pv.registry, p, &req.project_id)
        .await
        .map_err(|_| Error::not_found(format!("request {id}")))?;
    let res = resource(pv, &req.resource_id).await?;
    let mut v = req.view(res.as_ref());
    super::grants::annotate(pv, &mut v);
    super::approver::annotate(pv, &mut v);
    Ok(v)
}

/// A page position in the requests list: the (created_at, id) of the last
/// row served, as an opaque token. Ids break ties between equal timestamps,
/// so no row is skipped or served twice.
fn request_cursor(at: DateTime<Utc>, id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        id
    ))
}
fn parse_request_cursor(s: &str) -> Result<(DateTime<Utc>, String)> {
    use base64::Engine as _;
    let bad = || {
        Error::invalid_hint(
            "cursor",
            "is not a cursor of this list",
            "pass the next_cursor of the previous page unchanged, or leave it out for the first page",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    let at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    // Only the shape handed out (`req-<hex>`): anything else, a NUL
    // included, never reaches the database.
    if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(bad());
    }
    Ok((at, id.to_string()))
}

/// Requests of one project, or (admins/auditors, `project = None`) all,
/// optionally filtered by state — the approvals inbox is `state=pending_approval`.
/// Provisioning and governance requests together (`InboxItem`), newest
/// first, `limit` per page; `next_cursor` continues.
pub async fn list_requests(
    pv: Provisioner<'_>,
    p: &Principal,
    project: Option<&str>,
    state: Option<&str>,
    limit: i64,
    cursor: Option<&str>,
) -> Result<InboxPage> {
    let after = cursor.map(parse_request_cursor).transpose()?;
    match project {
        Some(id) => {
            projects::get(pv.registry, p, id).await?;
        }
        None if p.reads_everything() => {}
        None => {
            return Err(Error::invalid_hint(
                "project_id",
                "is required",
                "pass the project id; only admins and auditors list across projects",
            ));
        }
    }
    let limit = limit.clamp(1, 500);
    let sql = format!(
        "SELECT {REQUEST_COLS} FROM requests WHERE ($1 IS NULL OR project_id = $1) AND ($2 IS NULL OR state = $2)
           AND ($3 IS NULL OR created_at < $3 OR (created_at = $3 AND id < $4))
         ORDER BY created_at DESC, id DESC LIMIT $5"
    );
    let (at, id) = after.clone().unzip();
    let rows: Vec<Request> = on_pool!(pv.store.read(), |pool| {
        sqlx::query_as::<_, Request>(&sql)
            .bind(project)
            .bind(state)
            .bind(at)
            .bind(&id)
            .bind(limit + 1)
            .fetch_all(pool)
            .await
    })?;
    let gov = crate::registry::governance::list(pv.store, project, state, after, limit + 1).await?;
    let provisioning = rows
        .iter()
        .map(|r| {
            // The approvals inbox: which grants reach beyond the project.
            let mut v = r.view(None);
            super::grants::annotate(pv, &mut v);
            super::approver::annotate(pv, &mut v);
            InboxItem::Provisioning(Box::new(v))
        })
        .collect();
    let governance = gov
        .iter()
        .map(|g| InboxItem::Governance(Box::new(g.view())))
        .collect();
    let mut all = inbox::merge(provisioning, governance);
    let more = all.len() as i64 > limit;
    all.truncate(limit as usize);
    let next = if more {
        all.last().map(|i| {
            let (at, id) = i.position();
            request_cursor(at, id)
        })
    } else {
        None
    };
    Ok(InboxPage {
        requests: all,
        next_cursor: next,
    })
}

pub async fn list_resources(
    pv: Provisioner<'_>,
    p: &Principal,
    project: &str,
    include_destroyed: bool,
) -> Result<ResourceList> {
    projects::get(pv.registry, p, project).await?;
    let sql = format!(
        "SELECT {RESOURCE_COLS} FROM resources WHERE project_id = $1 AND ($2 OR state <> 'destroyed') ORDER BY created_at DESC"
    );
    let mut rows: Vec<Resource> = on_pool!(pv.store.read(), |pool| {
        sqlx::query_as::<_, Resource>(&sql)
            .bind(project)
            .bind(include_destroyed)
            .fetch_all(pool)
            .await
    })?;
    attach_pending(pv, project, &mut rows).await?;
    Ok(ResourceList {
        resources: rows.iter().map(Resource::view).collect(),
    })
}

/// A resource by id, or by name within the project (narrowed by `service`
/// when given). A bare name that more than one resource carries is refused
/// with the candidates: acting on a guess could destroy the wrong one.
pub async fn get_resource(
    pv: Provisioner<'_>,
    p: &Principal,
    project: &str,
    id_or_name: &str,
    service: Option<&str>,
) -> Result<Resource> {
    projects::get(pv.registry, p, project).await?;
    let sql = format!(
        "SELECT {RESOURCE_COLS} FROM resources WHERE project_id = $1 AND (id = $2 OR name = $2) AND ($3 IS NULL OR service = $3) ORDER BY service, id"
    );
    let rows: Vec<Resource> =
        on_pool!(pv.store.read(), |pool| sqlx::query_as::<_, Resource>(&sql)
            .bind(project)
            .bind(id_or_name)
            .bind(service)
            .fetch_all(pool)
            .await)?;
    let mut r = pick_resource(rows, id_or_name)?;
    attach_pending(pv, project, std::slice::from_mut(&mut r)).await?;
    Ok(r)
}

/// The one resource `id_or_name` names among `rows` (its id, or its name).
pub fn pick_resource(mut rows: Vec<Resource>, id_or_name: &str) -> Result<Resource> {
    if let Some(i) = rows.iter().position(|r| r.id == id_or_name) {
        return Ok(rows.swap_remove(i));
    }
    match rows.len() {
        0 => Err(Error::not_found(format!("resource {id_or_name}"))),
        1 => Ok(rows.remove(0)),
        _ => Err(Error::Ambiguous {
            field: "resource".into(),
            message: format!(
                "{} resources are named {id_or_name}: {}",
                rows.len(),
                rows.iter()
                    .map(|r| format!("{} ({}, {})", r.id, r.service, r.state))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: "pass `service` as well, or the resource id".into(),
            candidates: rows
                .iter()
                .map(|r| json!({"resource_id": r.id, "service": r.service, "name": r.name, "state": r.state}))
                .collect(),
        }),
    }
}

/// Fill in each resource's change still waiting, queued or running (an
/// update: the resource itself keeps its applied spec until it applies).
async fn attach_pending(pv: Provisioner<'_>, project: &str, rows: &mut [Resource]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT {REQUEST_COLS} FROM requests WHERE project_id = $1 AND kind = 'update' AND state IN ('pending_approval', 'queued', 'running') ORDER BY created_at, id"
    );
    let changes: Vec<Request> = on_pool!(pv.store.read(), |pool| {
        sqlx::query_as::<_, Request>(&sql)
            .bind(project)
            .fetch_all(pool)
            .await
    })?;
    for c in changes {
        if let Some(r) = rows.iter_mut().find(|r| r.id == c.resource_id) {
            r.pending = Some(c);
        }
    }
    Ok(())
}

/// Budget, committed monthly estimate and breakdown.
pub async fn project_cost(pv: Provisioner<'_>, p: &Principal, project: &str) -> Result<CostReport> {
    let pr: Project = projects::get(pv.registry, p, project).await?;
    let sql = format!(
        "SELECT {RESOURCE_COLS} FROM resources WHERE project_id = $1 AND state IN {} ORDER BY name",
        super::request::COMMITTED
    );
    let rows: Vec<Resource> =
        on_pool!(pv.store.read(), |pool| sqlx::query_as::<_, Resource>(&sql)
            .bind(project)
            .fetch_all(pool)
            .await)?;
    let committed: i64 = rows.iter().map(|r| r.estimate_cents).sum();
    Ok(CostReport {
        budget_usd: cents_to_usd(pr.budget_cents),
        budget_set: pr.budget_cents > 0,
        committed_monthly_usd: cents_to_usd(committed),
        remaining_monthly_usd: (pr.budget_cents > 0)
            .then(|| cents_to_usd(pr.budget_cents - committed)),
        resources: rows
            .iter()
            .map(|r| CostLine {
                resource_id: r.id.clone(),
                service: r.service.clone(),
                name: r.name.clone(),
                state: r.state,
                estimate_monthly_usd: cents_to_usd(r.estimate_cents),
            })
            .collect(),
        spend_to_date: SpendToDate {
            measurable: false,
            note: "Asgard records estimates; actual cloud spend is not read from billing APIs in this version",
        },
        project_id: pr.id,
    })
}

/// The caller's own project for a secret: a key's project, or a project the
/// user has authority over.
async fn secret_project(pv: Provisioner<'_>, p: &Principal, project: &str) -> Result<Project> {
    let pr = projects::get(pv.registry, p, project)
        .await
        .map_err(|_| Error::not_found("secret"))?;
    if !pr.writable_by(p) {
        return Err(Error::forbidden(
            "secrets are readable only by the project's key, owner, manager or an admin",
            "use the project's key",
        ));
    }
    Ok(pr)
}

pub async fn get_secret(
    pv: Provisioner<'_>,
    p: &Principal,
    secret_ref: &str,
) -> Result<SecretValue> {
    let (project, name) = store::parse_ref(secret_ref)?;
    secret_project(pv, p, &project).await?;
    let (version, value) = store::get(pv.secrets, &project, &name)
        .await?
        .ok_or_else(|| Error::not_found("secret"))?;
    audit::record_now(
        pv.store,
        Event::new(p, "secret.read")
            .project(&project)
            .target(secret_ref)
            .data(json!({"version": version})),
    )
    .await?;
    Ok(SecretValue {
        secret_ref: secret_ref.to_string(),
        version,
        value: String::from_utf8_lossy(&value).into_owned(),
    })
}

pub async fn list_secrets(pv: Provisioner<'_>, p: &Principal, project: &str) -> Result<SecretList> {
    secret_project(pv, p, project).await?;
    let rows = store::list(pv.secrets, project).await?;
    Ok(SecretList {
        secrets: rows
            .into_iter()
            .map(|s| SecretEntry {
                secret_ref: store::secret_ref(project, &s.name),
                name: s.name,
                version: s.version,
                created_at: s.created_at,
            })
            .collect(),
    })
}

/// A request's run log (secrets already redacted before sealing).
pub async fn run_log(pv: Provisioner<'_>, p: &Principal, request_id: &str) -> Result<RunLog> {
    let req = request(pv, request_id)
        .await?
        .ok_or_else(|| Error::not_found(format!("request {request_id}")))?;
    let pr = projects::get(pv.registry, p, &req.project_id)
        .await
        .map_err(|_| Error::not_found(format!("request {request_id}")))?;
    if !(pr.writable_by(p) || p.reads_everything()) {
        return Err(Error::forbidden(
            "run logs are readable by the project's authority",
            "ask the owner",
        ));
    }
    let sealed: Option<Vec<u8>> = on_pool!(pv.store.read(), |pool| {
        sqlx::query_scalar("SELECT sealed FROM run_logs WHERE request_id = $1")
            .bind(request_id)
            .fetch_optional(pool)
            .await
    })?;
    let Some(sealed) = sealed else {
        return Ok(RunLog {
            request_id: request_id.to_string(),
            log: None,
        });
    };
    let log = pv
        .run_logs
        .open(&sealed, format!("runlog|{request_id}").as_bytes())
        .map_err(|e| Error::internal(anyhow::anyhow!("run log {request_id}: {e}")))?;
    Ok(RunLog {
        request_id: request_id.to_string(),
        log: Some(String::from_utf8_lossy(&log).into_owned()),
    })
}
