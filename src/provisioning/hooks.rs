//! What the kill switch and decommission do to resources (SPEC §4.4):
//! killing suspends stoppable resources (re-apply with the service's
//! `stop_vars`), unkilling resumes them, decommissioning destroys everything
//! (data-bearing resources only with `destroy_data: true`).

use serde_json::{Value, json};

use super::request::insert_request;
use super::{RESOURCE_COLS, Resource, history};
use crate::app::App;
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};

async fn live_resources(app: &App, project: &str) -> Result<Vec<Resource>> {
    let sql = format!(
        "SELECT {RESOURCE_COLS} FROM resources WHERE project_id = $1 AND armed = TRUE AND state IN ('fulfilled', 'failed', 'destroy_failed')"
    );
    Ok(on_pool!(app.store.read(), |p| {
        sqlx::query_as::<_, Resource>(&sql)
            .bind(project)
            .fetch_all(p)
            .await
    })?)
}

/// Queue suspend (kill) or resume (unkill) runs for stoppable resources.
pub async fn on_kill(app: &App, p: &Principal, project: &str, killed: bool) -> Result<usize> {
    if app.config.terraform.is_none() {
        return Ok(0);
    }
    let mut queued = 0;
    for r in live_resources(app, project).await? {
        let stoppable = app.catalog.get(&r.service).is_some_and(|m| m.stoppable());
        if !stoppable || r.state == "destroy_failed" || r.suspended == killed {
            continue;
        }
        let kind = if killed { "suspend" } else { "resume" };
        let mut tx = app.store.begin().await?;
        // Suspend and resume re-apply what was last applied, never a change
        // still waiting for approval.
        let Some(applied) = history::of(&mut tx, &r.id).await?.last_applied else {
            continue;
        };
        let id = insert_request(
            &mut tx,
            &r.id,
            project,
            kind,
            &applied.spec,
            "queued",
            false,
            &p.actor(),
        )
        .await?;
        audit::record(
            &mut tx,
            Event::new(p, "resource.suspend_requested")
                .project(project)
                .target(&id)
                .data(json!({"name": r.name, "kind": kind})),
        )
        .await?;
        tx.commit().await?;
        queued += 1;
    }
    app.work.notify_one();
    Ok(queued)
}

/// Every armed resource not destroyed or being destroyed, whatever its
/// request is doing: a decommission must leave none behind.
async fn undestroyed_resources(app: &App, project: &str) -> Result<Vec<Resource>> {
    let sql = format!(
        "SELECT {RESOURCE_COLS} FROM resources WHERE project_id = $1 AND armed = TRUE AND state NOT IN ('destroyed', 'destroying')"
    );
    Ok(on_pool!(app.store.read(), |p| {
        sqlx::query_as::<_, Resource>(&sql)
            .bind(project)
            .fetch_all(p)
            .await
    })?)
}

/// Before a decommission: refuse if data would be destroyed without
/// consent, else deprovision every resource. That includes resources whose
/// request is pending, queued or running at this moment: `deprovision`
/// cancels what has not started (closing the resource when no run ever
/// did) and queues a destroy behind a run in progress, so nothing is
/// orphaned.
pub async fn on_decommission(
    app: &App,
    p: &Principal,
    project: &str,
    destroy_data: bool,
) -> Result<Value> {
    let live = undestroyed_resources(app, project).await?;
    let data: Vec<&str> = live
        .iter()
        .filter(|r| app.catalog.get(&r.service).is_some_and(|m| m.data_bearing))
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
    for r in live {
        let v = super::request::deprovision(app, p, project, &r.id, true).await?;
        queued.push(v["request_id"].clone());
    }
    Ok(json!(queued))
}
