//! What the kill switch and decommission do to resources, inside the
//! transaction that changes the project: killing suspends stoppable
//! resources (re-apply with the service's `stop_vars`), unkilling resumes
//! them, decommissioning destroys everything (data-bearing resources only
//! with `destroy_data: true`). The use cases are in `provisioning::lifecycle`.

use serde_json::json;

use super::request::{Gate, deprovision_in, insert_request};
use super::{RESOURCE_COLS, RequestKind, RequestState, Resource, history};
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::provisioning::Provisioner;
use crate::store::Tx;

async fn resources_in(tx: &mut Tx, project: &str, states: &str) -> Result<Vec<Resource>> {
    let sql = format!(
        "SELECT {RESOURCE_COLS} FROM resources WHERE project_id = $1 AND armed = TRUE AND {states} ORDER BY created_at, id"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Resource>(&sql)
        .bind(project)
        .fetch_all(&mut *c)
        .await)?)
}

/// Queue suspend (kill) or resume (unkill) runs for stoppable resources.
pub async fn queue_suspends(
    tx: &mut Tx,
    pv: Provisioner<'_>,
    p: &Principal,
    project: &str,
    killed: bool,
) -> Result<usize> {
    // Queued on an unarmed replica too: an armed worker runs it (the rows
    // below are armed resources, so an armed replica exists).
    let live = resources_in(tx, project, "state IN ('fulfilled', 'failed')").await?;
    let (kind, opposite) = if killed {
        (RequestKind::Suspend, RequestKind::Resume)
    } else {
        (RequestKind::Resume, RequestKind::Suspend)
    };
    let now = tx.now();
    let mut queued = 0;
    for r in live {
        let stoppable = pv.catalog.get(&r.service).is_some_and(|m| m.stoppable());
        if !stoppable {
            continue;
        }
        // A kill right after an unkill (or the reverse): the opposite run
        // that has not started is cancelled, and one already running is
        // followed by ours, so the resource ends as the project says.
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE requests SET state = 'rejected', decision_reason = 'superseded: the project was killed or unkilled again', updated_at = $1 WHERE resource_id = $2 AND kind = $3 AND state = 'queued'"
        )
        .bind(now)
        .bind(&r.id)
        .bind(opposite)
        .execute(&mut *c)
        .await
        .map(|x| x.rows_affected())
        })?;
        let opposite_running: i64 = on_tx!(tx, |c| {
            sqlx::query_scalar(
            "SELECT COUNT(*) FROM requests WHERE resource_id = $1 AND kind = $2 AND state = 'running'"
        )
        .bind(&r.id)
        .bind(opposite)
        .fetch_one(&mut *c)
        .await
        })?;
        if r.suspended == killed && opposite_running == 0 {
            continue;
        }
        // Suspend and resume re-apply what was last applied, never a change
        // still waiting for approval (the worker reads it again at run time).
        let Some(applied) = history::of(tx, &r.id).await?.last_applied else {
            continue;
        };
        let id = insert_request(
            tx,
            &r.id,
            project,
            kind,
            &applied.spec,
            RequestState::Queued,
            None,
            p,
        )
        .await?;
        audit::record(
            tx,
            Event::new(p, "resource.suspend_requested")
                .project(project)
                .target(&id)
                .data(json!({"name": r.name, "kind": kind})),
        )
        .await?;
        queued += 1;
    }
    Ok(queued)
}

/// Before a decommission: refuse if data would be destroyed without
/// consent, else deprovision every armed resource not yet destroyed. That
/// includes resources whose request is pending, queued or running at this
/// moment: `deprovision_in` cancels what has not started (closing the
/// resource when no run ever did) and queues a destroy behind a run in
/// progress, so nothing is orphaned. Answers the destroy requests' ids.
pub async fn queue_destroys(
    tx: &mut Tx,
    pv: Provisioner<'_>,
    p: &Principal,
    project: &str,
    destroy_data: bool,
) -> Result<Vec<String>> {
    let live = resources_in(tx, project, "state NOT IN ('destroyed', 'destroying')").await?;
    let data: Vec<&str> = live
        .iter()
        .filter(|r| pv.catalog.get(&r.service).is_some_and(|m| m.data_bearing))
        .map(|r| r.name.as_str())
        .collect();
    if !data.is_empty() && !destroy_data {
        return Err(Error::invalid_hint(
            "destroy_data",
            format!(
                "these resources hold data and would be destroyed: {}",
                data.join(", ")
            ),
            "send destroy_data: true to destroy them with the project",
        ));
    }
    let mut queued = Vec::new();
    for r in &live {
        // A decommission is itself a confirmed, audited decision by the
        // project's authority, and the project is retired at once (so a
        // destroy waiting for approval could never be approved): its
        // destroys are not gated.
        queued.push(deprovision_in(tx, pv, p, r, true, Gate::Off).await?);
    }
    Ok(queued)
}
