//! Turning an agent's ask into a request row: validate, gate, reserve budget
//! atomically, then `planned` (unarmed), `pending_approval` or `queued`
//! (`create`); teardown (`deprovision`); and the approve/reject decisions
//! (`decide`). One file per use case; the helpers they share live here.

mod create;
mod decide;
mod deprovision;

pub use create::{Asked, request_resource};
pub use decide::decide;
pub use deprovision::{Gate, deprovision, deprovision_in};

use super::{REQUEST_COLS, RESOURCE_COLS, Request, RequestKind, RequestState, Resource};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::registry::{PROJECT_COLS, Project, projects};
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

/// `writable_project`, with the project's row locked on Postgres (SQLite
/// has one writer already) in the same statement: the budget checks of one
/// project take turns from here to the commit, so each statement saved
/// before the commit is time the next ask into the project does not wait.
pub(super) async fn writable_project_locked(
    tx: &mut Tx,
    engine: Engine,
    p: &Principal,
    project_id: &str,
) -> Result<Project> {
    p.require_writer()?;
    let lock = if engine == Engine::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1{lock}");
    let pr = on_tx!(tx, |c| sqlx::query_as::<_, Project>(&sql)
        .bind(project_id)
        .fetch_optional(&mut *c)
        .await)?
    .filter(|c| c.visible_to(p))
    .ok_or_else(|| Error::not_found(format!("project {project_id}")))?;
    if !pr.writable_by(p) {
        pr.require_authority(p)?;
    }
    Ok(pr)
}

/// What an ask needs to know under the project lock, in one statement:
/// what the project's other resources commit, and the resource of that
/// service and name if there is one. (`(project, service, name)` is unique,
/// so "other" is every resource but that one.)
pub(super) async fn budget_and_resource(
    tx: &mut Tx,
    project: &str,
    service: &str,
    name: &str,
) -> Result<(i64, Option<Resource>)> {
    use sqlx::{FromRow, Row};
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let cols = RESOURCE_COLS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "SELECT CAST((SELECT COALESCE(SUM(o.estimate_cents), 0) FROM resources o WHERE o.project_id = $1 AND o.state IN {COMMITTED} AND NOT (o.service = $2 AND o.name = $3)) AS BIGINT) AS others_cents, {cols}
             FROM (SELECT 1 AS one) AS one LEFT JOIN resources r ON r.project_id = $1 AND r.service = $2 AND r.name = $3"
        )
    });
    Ok(on_tx!(tx, |c| {
        match sqlx::query(&SQL)
            .bind(project)
            .bind(service)
            .bind(name)
            .fetch_one(&mut *c)
            .await
        {
            Ok(row) => (|| -> sqlx::Result<(i64, Option<Resource>)> {
                let others: i64 = row.try_get("others_cents")?;
                let found: Option<String> = row.try_get("id")?;
                let existing = match found {
                    Some(_) => Some(Resource::from_row(&row)?),
                    None => None,
                };
                Ok((others, existing))
            })(),
            Err(e) => Err(e),
        }
    })?)
}

/// Serialise budget checks per project: Postgres locks the project row;
/// SQLite has one writer already.
pub(crate) async fn lock_project(tx: &mut Tx, engine: Engine, id: &str) -> Result<()> {
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

pub(super) async fn committed_cents(
    tx: &mut Tx,
    project: &str,
    except_resource: Option<&str>,
) -> Result<i64> {
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

#[allow(clippy::too_many_arguments)]
pub async fn insert_request(
    tx: &mut Tx,
    resource_id: &str,
    project: &str,
    kind: RequestKind,
    spec: &str,
    state: RequestState,
    approval: Option<&str>,
    by: &Principal,
) -> Result<String> {
    let needs_approval = approval.is_some();
    let id = format!("req-{}", uuid::Uuid::new_v4().simple());
    let now = tx.now();
    let actor = by.actor();
    let user_id = by.user().map(|u| u.id.as_str());
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO requests (id, resource_id, project_id, kind, spec, state, needs_approval, requested_by, requested_by_user_id, attempts, created_at, updated_at, approval_reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, 0, $9, $9, $11)",
        )
        .bind(&id).bind(resource_id).bind(project).bind(kind).bind(spec).bind(state).bind(needs_approval).bind(&actor).bind(now).bind(user_id).bind(approval)
        .execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    Ok(id)
}
