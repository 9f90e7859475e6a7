//! Kill, unkill and decommission as use cases: the project's change, the
//! resource runs it implies (suspend, resume, destroy) and their audit rows
//! commit in one transaction, so a failure leaves neither half behind.

use crate::auth::Principal;
use crate::error::Result;
use crate::provisioning::Provisioner;
use crate::registry::{Project, projects};

/// What a kill or unkill did: the project, and how many runs it queued.
pub struct Killed {
    pub project: Project,
    pub runs_queued: usize,
}

/// Freeze (`kill`) or thaw a project and queue the suspend (resume) runs of
/// its stoppable resources.
pub async fn kill(
    pv: Provisioner<'_>,
    p: &Principal,
    id: &str,
    kill: bool,
    reason: Option<String>,
) -> Result<Killed> {
    let now = pv.store.clock().now();
    let mut tx = pv.store.begin().await?;
    // The project row first, as requests and approvals take it: one lock
    // order, so concurrent use cases cannot deadlock on Postgres.
    super::request::lock_project(&mut tx, pv.store.engine(), id).await?;
    let (project, changed) = projects::set_killed_in(&mut tx, p, id, kill, reason, now).await?;
    let runs_queued = if changed {
        super::hooks::queue_suspends(&mut tx, pv, p, id, kill).await?
    } else {
        0
    };
    tx.commit().await?;
    pv.work.notify_one();
    Ok(Killed {
        project,
        runs_queued,
    })
}

/// What a decommission did: the project, and the destroy requests queued
/// (`None` when it was already decommissioned).
pub struct Decommissioned {
    pub project: Project,
    pub destroy_requests: Option<Vec<String>>,
}

/// Retire a project: check the reason, confirmation and authority first,
/// then queue the destruction of every resource, revoke every key and mark
/// it decommissioned, all in one transaction.
pub async fn decommission(
    pv: Provisioner<'_>,
    p: &Principal,
    id: &str,
    reason: Option<&str>,
    confirm: Option<&str>,
    destroy_data: bool,
) -> Result<Decommissioned> {
    let now = pv.store.clock().now();
    let mut tx = pv.store.begin().await?;
    super::request::lock_project(&mut tx, pv.store.engine(), id).await?;
    let (cur, reason) = projects::check_decommission(&mut tx, p, id, reason, confirm).await?;
    if cur.lifecycle == crate::registry::Lifecycle::Decommissioned {
        tx.commit().await?;
        return Ok(Decommissioned {
            project: cur,
            destroy_requests: None,
        });
    }
    let queued = super::hooks::queue_destroys(&mut tx, pv, p, id, destroy_data).await?;
    let project = projects::decommission_in(&mut tx, p, id, &reason, now).await?;
    tx.commit().await?;
    pv.work.notify_one();
    Ok(Decommissioned {
        project,
        destroy_requests: Some(queued),
    })
}
