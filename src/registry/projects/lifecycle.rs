//! Changing a registered project: merge-patch, kill/unkill, decommission.
//! Each runs in one transaction with its audit row.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::fetch_tx;
use super::register::resolve_group;
use crate::audit::{self, Event};
use crate::auth::{Principal, Role};
use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::registry::input::ProjectPatch;
use crate::registry::{Lifecycle, Project};
use crate::store::Tx;

/// Take a patched value only if it differs, and note the field as changed
/// (only real changes are audited).
fn set<T: PartialEq>(slot: &mut T, v: Option<T>, field: &str, changed: &mut Vec<String>) {
    if let Some(v) = v.filter(|v| v != slot) {
        *slot = v;
        changed.push(field.into());
    }
}

/// The audit data of a patch: the changed field names, and a budget
/// change's old and new values (a budget is not personal data, and who
/// raised it by how much is what a cost review asks).
fn changed_data(changed: &[String], cur: &Project, next: &Project) -> serde_json::Value {
    let mut data = json!({"changed": changed});
    if cur.budget_cents != next.budget_cents {
        data["budget_usd"] = json!({
            "old": crate::registry::cents_to_usd(cur.budget_cents),
            "new": crate::registry::cents_to_usd(next.budget_cents),
        });
    }
    data
}

pub async fn patch(
    reg: Registry<'_>,
    p: &Principal,
    id: &str,
    body: ProjectPatch,
) -> Result<Project> {
    let patch = body.check()?;
    let mut tx = reg.store.begin().await?;
    // Locked (Postgres): the row is written back whole, so a promotion,
    // an extension or a sweep mark committed meanwhile must not be lost.
    let cur =
        crate::registry::governance::visible_locked(&mut tx, reg.store.engine(), p, id).await?;
    // Agents with the project's key may update description and evidence; the
    // rest needs authority.
    let key_only = patch.name.is_none()
        && patch.budget_cents.is_none()
        && patch.manager_email.is_none()
        && patch.owner_email.is_none()
        && patch.group.is_none()
        && patch.data_class.is_none();
    if !(cur.has_authority(p) || (key_only && cur.writable_by(p))) {
        cur.require_authority(p)?;
    }
    if cur.lifecycle == Lifecycle::Decommissioned {
        return Err(Error::conflict(
            format!("project {id} is decommissioned"),
            "decommissioned projects are read-only",
        ));
    }
    if (patch.owner_email.is_some() || patch.group.is_some()) && !p.is_admin() {
        return Err(Error::forbidden(
            "only an admin may change owner_email or group",
            "ask an admin",
        ));
    }
    let mut changed: Vec<String> = Vec::new();
    let mut next = cur.clone();
    set(&mut next.name, patch.name, "name", &mut changed);
    set(
        &mut next.description,
        patch.description,
        "description",
        &mut changed,
    );
    set(
        &mut next.budget_cents,
        patch.budget_cents,
        "budget_usd",
        &mut changed,
    );
    set(
        &mut next.manager_email,
        patch.manager_email,
        "manager_email",
        &mut changed,
    );
    set(
        &mut next.owner_email,
        patch.owner_email,
        "owner_email",
        &mut changed,
    );
    set(
        &mut next.data_class,
        patch.data_class.map(|d| d.as_str().to_string()),
        "data_class",
        &mut changed,
    );
    if let Some(g) = patch.group.filter(|g| Some(g) != cur.grp.as_ref()) {
        let (grp, cc) = resolve_group(reg, Some(&g), true)?;
        next.grp = grp;
        next.cost_center = cc;
        changed.push("group".into());
    }
    if !patch.evidence.is_empty() {
        let mut ev = cur.evidence_map();
        for (k, v) in patch.evidence {
            let before = ev.get(&k).cloned();
            match v {
                Some(v) => ev.insert(k.clone(), v),
                None => ev.remove(&k),
            };
            if ev.get(&k) != before.as_ref() {
                changed.push(format!("evidence.{k}"));
            }
        }
        next.evidence = serde_json::to_string(&ev).map_err(Error::internal)?;
    }
    if changed.is_empty() {
        return Ok(cur);
    }
    let now = reg.store.clock().now();
    // The team's own review date may bring an operational project's review
    // forward, never push it back or clear an overdue mark: anyone who may
    // edit evidence (an agent's key too) can change it, and only an
    // extension moves a review later. A date already past is left for the
    // sweep to mark (and audit).
    if changed
        .iter()
        .any(|c| c == "evidence.recurring_review_date")
        && next.classification != crate::governance::Classification::Poc
    {
        let due = crate::governance::review::due_date(
            next.classification,
            now,
            &next.evidence_map(),
            &reg.config.file.review,
        );
        next.review_date = Some(crate::governance::review::recomputed(cur.review_date, due));
    }
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE projects SET name = $1, description = $2, budget_cents = $3, manager_email = $4, owner_email = $5,
               grp = $6, cost_center = $7, data_class = $8, evidence = $9, updated_at = $10, review_date = $12,
               review_state = $13 WHERE id = $11",
        )
        .bind(&next.name)
        .bind(&next.description)
        .bind(next.budget_cents)
        .bind(&next.manager_email)
        .bind(&next.owner_email)
        .bind(&next.grp)
        .bind(&next.cost_center)
        .bind(&next.data_class)
        .bind(&next.evidence)
        .bind(now)
        .bind(id)
        .bind(next.review_date)
        .bind(&next.review_state)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    audit::record(
        &mut tx,
        Event::new(p, "project.updated")
            .project(id)
            .target(id)
            .data(changed_data(&changed, &cur, &next)),
    )
    .await?;
    let out = fetch_tx(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    tx.commit().await?;
    Ok(out)
}

/// Freeze (`kill = true`) or thaw a project, inside the caller's
/// transaction (the use case queues the suspend/resume runs in the same
/// one). Frozen projects' keys stop working and provisioning refuses them.
/// Answers the project and whether it changed.
pub async fn set_killed_in(
    tx: &mut Tx,
    p: &Principal,
    id: &str,
    kill: bool,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(Project, bool)> {
    let reason = match (kill, reason) {
        (true, Some(r)) => Some(crate::registry::validate::text("reason", &r, 500)?),
        (true, None) => return Err(Error::invalid("reason", "is required to kill a project")),
        (false, r) => crate::registry::validate::opt_text("reason", r.as_deref(), 500)?,
    };
    let cur = fetch_tx(tx, id)
        .await?
        .filter(|c| c.visible_to(p))
        .ok_or_else(|| Error::not_found(format!("project {id}")))?;
    cur.require_authority(p)?;
    if cur.lifecycle != Lifecycle::Active {
        return Err(Error::conflict(
            format!("project {id} is {}", cur.lifecycle),
            "nothing to do",
        ));
    }
    if cur.killed == kill {
        return Ok((cur, false));
    }
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE projects SET killed = $1, killed_reason = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(kill)
        .bind(if kill { reason.clone() } else { None })
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    let action = if kill {
        "project.killed"
    } else {
        "project.unkilled"
    };
    audit::record(
        tx,
        Event::new(p, action)
            .project(id)
            .target(id)
            .reason(reason.as_deref()),
    )
    .await?;
    let out = fetch_tx(tx, id)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    Ok((out, true))
}

/// Whether `p` may decommission `pr`: an admin, or its owner.
pub fn may_decommission(p: &Principal, pr: &Project) -> bool {
    p.is_admin() || (p.role() == Some(Role::Member) && p.email() == Some(pr.owner_email.as_str()))
}

/// Check a decommission before anything changes: the reason, the
/// confirmation (the project id repeated) and the caller's authority.
/// Answers the project as it is.
pub async fn check_decommission(
    tx: &mut Tx,
    p: &Principal,
    id: &str,
    reason: Option<&str>,
    confirm: Option<&str>,
) -> Result<(Project, String)> {
    let reason = crate::registry::validate::text("reason", reason.unwrap_or(""), 500)?;
    if confirm != Some(id) {
        return Err(Error::invalid_hint(
            "confirm",
            "must equal the project id",
            format!("send \"confirm\": \"{id}\""),
        ));
    }
    let cur = fetch_tx(tx, id)
        .await?
        .filter(|c| c.visible_to(p))
        .ok_or_else(|| Error::not_found(format!("project {id}")))?;
    if !may_decommission(p, &cur) {
        return Err(Error::forbidden(
            "only an admin or the project's owner may decommission it",
            "ask the owner or an admin",
        ));
    }
    Ok((cur, reason))
}

/// Retire a checked project inside the caller's transaction: revoke every
/// key and mark it decommissioned, audited with the reason.
pub async fn decommission_in(
    tx: &mut Tx,
    p: &Principal,
    id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Project> {
    let revoked = on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE project_keys SET revoked_at = $1 WHERE project_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE projects SET lifecycle = 'decommissioned', updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    audit::record(
        tx,
        Event::new(p, "project.decommissioned")
            .project(id)
            .target(id)
            .reason(Some(reason))
            .data(json!({"keys_revoked": revoked})),
    )
    .await?;
    fetch_tx(tx, id)
        .await?
        .ok_or_else(|| Error::not_found("project"))
}
