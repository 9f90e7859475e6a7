//! Project lifecycle: register, read (scoped), merge-patch, kill/unkill,
//! decommission. Ids are `proj-YYYY-NNNN` from a per-year counter bumped
//! inside the registering transaction (an upsert both engines serialise), so
//! concurrent registrations get distinct, gap-free ids.

use chrono::{Datelike, Duration, Utc};
use serde_json::{Value, json};

use super::input::{self, NewProject};
use super::{PROJECT_COLS, Project};
use crate::app::App;
use crate::audit::{self, Event};
use crate::auth::{Principal, Role};
use crate::error::{Error, Result};
use crate::governance::{Classification, evidence};
use crate::store::Tx;

const MAX_PER_YEAR: i64 = 9_999;

pub async fn register(
    app: &App,
    p: &Principal,
    body: &Value,
    default_owner: Option<&str>,
) -> Result<Project> {
    p.require_writer()?;
    if p.key_project().is_some() {
        return Err(Error::forbidden(
            "a project key is locked to its project and cannot register new ones",
            "use a personal access token (PAT) or the dashboard to register a project",
        ));
    }
    let mut n: NewProject = input::parse_new(body)?;
    let reg = app.config.file.registration;
    if n.owner_email.is_none() {
        n.owner_email = default_owner.map(str::to_string);
    }
    let owner = n
        .owner_email
        .clone()
        .ok_or_else(|| Error::invalid("owner_email", "is required"))?;
    let manager = match n.manager_email.clone() {
        Some(m) => m,
        None if reg.require_manager => return Err(Error::invalid("manager_email", "is required")),
        None => owner.clone(),
    };
    if !p.is_admin() {
        let me = p.email().ok_or_else(|| {
            Error::forbidden(
                "your account has no email, so it cannot own or manage a project",
                "ask an admin to register it",
            )
        })?;
        if me != owner && me != manager {
            return Err(Error::forbidden(
                "members may only register projects they own or manage",
                "set owner_email or manager_email to your own email",
            ));
        }
    }
    let (group, cost_center) = resolve_group(app, n.group.as_deref(), reg.require_group)?;
    check_tier_at_registration(app, p, &n)?;

    let now = Utc::now();
    let review_date = match n.classification {
        Classification::Poc => {
            Some(now + Duration::days(app.config.file.review.poc_window_days as i64))
        }
        _ => recurring_review(&n.evidence),
    };
    let evidence_json = serde_json::to_string(&n.evidence).map_err(Error::internal)?;
    let year = now.year() as i64;

    let mut tx = app.store.begin().await?;
    let seq: i64 = on_tx!(&mut tx, |c| {
        sqlx::query_scalar(
            "INSERT INTO project_counters (year, last) VALUES ($1, 1)
             ON CONFLICT (year) DO UPDATE SET last = project_counters.last + 1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *c)
        .await
    })?;
    if seq > MAX_PER_YEAR {
        return Err(Error::conflict(
            format!(
                "{year} already has {MAX_PER_YEAR} projects, the most an id proj-YYYY-NNNN can number"
            ),
            "decommission unused projects is not enough: ask an operator to raise the limit in a new id format",
        ));
    }
    let id = format!("proj-{year:04}-{seq:04}");
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "INSERT INTO projects (id, name, description, owner_email, manager_email, grp, cost_center, classification,
               data_class, budget_cents, lifecycle, killed, review_date, review_state, extensions_used, evidence,
               created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', FALSE, $11, 'ok', 0, $12, $13, $14, $14)",
        )
        .bind(&id)
        .bind(&n.name)
        .bind(&n.description)
        .bind(&owner)
        .bind(&manager)
        .bind(&group)
        .bind(&cost_center)
        .bind(n.classification.as_str())
        .bind(&n.data_class)
        .bind(n.budget_cents)
        .bind(review_date)
        .bind(&evidence_json)
        .bind(p.actor())
        .bind(now)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    audit::record(
        &mut tx,
        Event::new(p, "project.registered").project(&id).target(&id).data(json!({
            "name": n.name, "owner_email": owner, "manager_email": manager, "group": group,
            "classification": n.classification.as_str(), "budget_usd": super::cents_to_usd(n.budget_cents),
        })),
    )
    .await?;
    let project = fetch_tx(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("project vanished")))?;
    tx.commit().await?;
    Ok(project)
}

fn resolve_group(
    app: &App,
    group: Option<&str>,
    required: bool,
) -> Result<(Option<String>, Option<String>)> {
    let groups = &app.config.file.groups;
    let Some(g) = group.filter(|g| !g.is_empty()) else {
        return if required {
            Err(Error::invalid_hint(
                "group",
                "is required",
                "pick one of the groups from GET /api/groups",
            ))
        } else {
            Ok((None, None))
        };
    };
    if groups.is_empty() {
        // Open mode: any well-formed group key, no cost center.
        if !crate::config::file::valid_group_key(g) {
            return Err(Error::invalid(
                "group",
                "must match ^[a-z][a-z0-9_-]{0,39}$",
            ));
        }
        return Ok((Some(g.to_string()), None));
    }
    match groups.iter().find(|x| x.key == g && x.active) {
        Some(x) => Ok((Some(x.key.clone()), x.cost_center.clone())),
        None => {
            let keys: Vec<&str> = groups
                .iter()
                .filter(|x| x.active)
                .map(|x| x.key.as_str())
                .collect();
            Err(Error::invalid_hint(
                "group",
                format!("`{g}` is not an active group of this Asgard"),
                format!("use one of: {}", keys.join(", ")),
            ))
        }
    }
}

fn check_tier_at_registration(app: &App, p: &Principal, n: &NewProject) -> Result<()> {
    if n.classification == Classification::Poc {
        return Ok(());
    }
    if n.classification > Classification::LightOperational {
        return Err(Error::invalid_hint(
            "classification",
            "projects register at poc or light-operational",
            "register at light-operational, then request promotion",
        ));
    }
    if p.is_admin() {
        return Ok(());
    }
    let missing = evidence::missing_for(
        &n.evidence,
        n.classification,
        &app.config.file.classification_requirements,
    );
    if !missing.is_empty() {
        return Err(Error::invalid_hint(
            "classification",
            format!(
                "registering at {} needs evidence: {}",
                n.classification.as_str(),
                missing.join(", ")
            ),
            "supply the missing evidence fields, or register at poc and promote later",
        ));
    }
    Ok(())
}

fn recurring_review(e: &evidence::Evidence) -> Option<chrono::DateTime<Utc>> {
    let s = e.get("recurring_review_date")?.as_str()?;
    let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc())
}

pub async fn fetch_tx(tx: &mut Tx, id: &str) -> Result<Option<Project>> {
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Project>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// A project by id, unscoped: for background work, never for a caller.
pub async fn fetch_by_id(app: &App, id: &str) -> Result<Project> {
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
    on_pool!(app.store.read(), |pool| sqlx::query_as::<_, Project>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?
    .ok_or_else(|| Error::not_found(format!("project {id}")))
}

/// A project the caller may see, or `not_found` (never revealing existence).
pub async fn get(app: &App, p: &Principal, id: &str) -> Result<Project> {
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
    let row: Option<Project> =
        on_pool!(app.store.read(), |pool| sqlx::query_as::<_, Project>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
    match row {
        Some(pr) if pr.visible_to(p) => Ok(pr),
        _ => Err(Error::not_found(format!("project {id}"))),
    }
}

#[derive(Debug, Default)]
pub struct ListFilter {
    pub group: Option<String>,
    pub classification: Option<String>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: i64,
}

pub async fn list(
    app: &App,
    p: &Principal,
    f: &ListFilter,
) -> Result<(Vec<Project>, Option<String>)> {
    let scope: Option<String> = if p.reads_everything() {
        None
    } else if let Some(k) = p.key_project() {
        Some(k.to_string())
    } else {
        Some(p.email().unwrap_or("\u{0}no-email").to_string())
    };
    let by_key = p.key_project().is_some();
    let limit = f.limit.clamp(1, 500);
    let q =
        f.q.as_ref()
            .map(|q| format!("%{}%", q.to_lowercase().replace(['%', '_'], "")));
    let sql = format!(
        "SELECT {PROJECT_COLS} FROM projects
         WHERE ($1 IS NULL OR (CASE WHEN $2 THEN id = $1 ELSE (owner_email = $1 OR manager_email = $1) END))
           AND ($3 IS NULL OR grp = $3)
           AND ($4 IS NULL OR classification = $4)
           AND ($5 IS NULL OR lower(name) LIKE $5 OR id LIKE $5)
           AND ($6 IS NULL OR id < $6)
         ORDER BY id DESC LIMIT $7"
    );
    let rows: Vec<Project> = on_pool!(app.store.read(), |pool| {
        sqlx::query_as::<_, Project>(&sql)
            .bind(&scope)
            .bind(by_key)
            .bind(&f.group)
            .bind(&f.classification)
            .bind(&q)
            .bind(&f.cursor)
            .bind(limit + 1)
            .fetch_all(pool)
            .await
    })?;
    let more = rows.len() as i64 > limit;
    let rows: Vec<Project> = rows.into_iter().take(limit as usize).collect();
    let next = if more {
        rows.last().map(|r| r.id.clone())
    } else {
        None
    };
    Ok((rows, next))
}

pub async fn patch(app: &App, p: &Principal, id: &str, body: &Value) -> Result<Project> {
    let patch = input::parse_patch(body)?;
    let mut tx = app.store.begin().await?;
    let cur = fetch_tx(&mut tx, id)
        .await?
        .filter(|c| c.visible_to(p))
        .ok_or_else(|| Error::not_found(format!("project {id}")))?;
    // Agents with the project's key may update description and evidence; the
    // rest needs authority (SPEC §4.2, §5.3).
    let key_only = patch.name.is_none()
        && patch.budget_cents.is_none()
        && patch.manager_email.is_none()
        && patch.owner_email.is_none()
        && patch.group.is_none()
        && patch.data_class.is_none();
    if !(cur.has_authority(p) || (key_only && cur.writable_by(p))) {
        cur.require_authority(p)?;
    }
    if cur.lifecycle == "decommissioned" {
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
    if let Some(v) = patch.name.filter(|v| *v != cur.name) {
        next.name = v;
        changed.push("name".into());
    }
    if let Some(v) = patch.description.filter(|v| *v != cur.description) {
        next.description = v;
        changed.push("description".into());
    }
    if let Some(v) = patch.budget_cents.filter(|v| *v != cur.budget_cents) {
        next.budget_cents = v;
        changed.push("budget_usd".into());
    }
    if let Some(v) = patch.manager_email.filter(|v| *v != cur.manager_email) {
        next.manager_email = v;
        changed.push("manager_email".into());
    }
    if let Some(v) = patch.owner_email.filter(|v| *v != cur.owner_email) {
        next.owner_email = v;
        changed.push("owner_email".into());
    }
    if let Some(v) = patch.data_class.filter(|v| *v != cur.data_class) {
        next.data_class = v;
        changed.push("data_class".into());
    }
    if let Some(g) = patch.group.filter(|g| Some(g) != cur.grp.as_ref()) {
        let (grp, cc) = resolve_group(app, Some(&g), true)?;
        next.grp = grp;
        next.cost_center = cc;
        changed.push("group".into());
    }
    if !patch.evidence.is_empty() {
        let mut ev: evidence::Evidence = serde_json::from_str(&cur.evidence).unwrap_or_default();
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
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE projects SET name = $1, description = $2, budget_cents = $3, manager_email = $4, owner_email = $5,
               grp = $6, cost_center = $7, data_class = $8, evidence = $9, updated_at = $10 WHERE id = $11",
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
        .bind(Utc::now())
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    audit::record(
        &mut tx,
        Event::new(p, "project.updated")
            .project(id)
            .target(id)
            .data(json!({"changed": changed})),
    )
    .await?;
    let out = fetch_tx(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    tx.commit().await?;
    Ok(out)
}

/// Freeze (`kill = true`) or thaw a project. Frozen projects' keys stop
/// working and provisioning refuses them.
pub async fn set_killed(
    app: &App,
    p: &Principal,
    id: &str,
    kill: bool,
    reason: Option<String>,
) -> Result<Project> {
    let reason = match (kill, reason) {
        (true, Some(r)) => Some(super::validate::text("reason", &r, 500)?),
        (true, None) => return Err(Error::invalid("reason", "is required to kill a project")),
        (false, r) => super::validate::opt_text("reason", r.as_deref(), 500)?,
    };
    let mut tx = app.store.begin().await?;
    let cur = fetch_tx(&mut tx, id)
        .await?
        .filter(|c| c.visible_to(p))
        .ok_or_else(|| Error::not_found(format!("project {id}")))?;
    cur.require_authority(p)?;
    if cur.lifecycle != "active" {
        return Err(Error::conflict(
            format!("project {id} is {}", cur.lifecycle),
            "nothing to do",
        ));
    }
    if cur.killed == kill {
        return Ok(cur);
    }
    on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE projects SET killed = $1, killed_reason = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(kill)
        .bind(if kill { reason.clone() } else { None })
        .bind(Utc::now())
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
        &mut tx,
        Event::new(p, action)
            .project(id)
            .target(id)
            .reason(reason.as_deref()),
    )
    .await?;
    let out = fetch_tx(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    tx.commit().await?;
    Ok(out)
}

/// Decommission: admin or owner, confirmed by repeating the project id.
/// Revokes every key and marks the project decommissioned. (Resource
/// teardown joins this when provisioning lands.)
pub async fn decommission(
    app: &App,
    p: &Principal,
    id: &str,
    reason: Option<String>,
    confirm: Option<String>,
) -> Result<Project> {
    let reason = super::validate::text("reason", reason.as_deref().unwrap_or(""), 500)?;
    if confirm.as_deref() != Some(id) {
        return Err(Error::invalid_hint(
            "confirm",
            "must equal the project id",
            format!("send \"confirm\": \"{id}\""),
        ));
    }
    let mut tx = app.store.begin().await?;
    let cur = fetch_tx(&mut tx, id)
        .await?
        .filter(|c| c.visible_to(p))
        .ok_or_else(|| Error::not_found(format!("project {id}")))?;
    let owner = p.role() == Some(Role::Member) && p.email() == Some(cur.owner_email.as_str());
    if !(p.is_admin() || owner) {
        return Err(Error::forbidden(
            "only an admin or the project's owner may decommission it",
            "ask the owner or an admin",
        ));
    }
    if cur.lifecycle == "decommissioned" {
        return Ok(cur);
    }
    let now = Utc::now();
    let revoked = on_tx!(&mut tx, |c| {
        sqlx::query(
            "UPDATE project_keys SET revoked_at = $1 WHERE project_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    on_tx!(&mut tx, |c| {
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
        &mut tx,
        Event::new(p, "project.decommissioned")
            .project(id)
            .target(id)
            .reason(Some(&reason))
            .data(json!({"keys_revoked": revoked})),
    )
    .await?;
    let out = fetch_tx(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    tx.commit().await?;
    Ok(out)
}
