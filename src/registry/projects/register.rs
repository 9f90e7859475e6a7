//! Registering a project. Ids are `proj-YYYY-NNNN` from a per-year counter
//! bumped inside the registering transaction (an upsert both engines
//! serialise), so concurrent registrations get distinct, gap-free ids.

use chrono::Datelike;
use serde_json::json;

use super::fetch_tx;
use crate::audit::{self, Event};
use crate::auth::{Principal, Via};
use crate::error::{Error, Result};
use crate::governance::{Classification, evidence};
use crate::registry::Project;
use crate::registry::Registry;
use crate::registry::input::{CheckedNew, NewProject};

const MAX_PER_YEAR: i64 = 9_999;

/// The owner of a project registered without `owner_email`: the caller,
/// when they came with a personal access token (an agent acting for its
/// human). A signed-in session names the owner explicitly; a key cannot
/// register at all.
pub fn default_owner(p: &Principal) -> Option<&str> {
    if p.via() == Some(Via::Pat) {
        p.email()
    } else {
        None
    }
}

/// Whether `p` may register projects at all: a writer, not a project key.
/// Checked before the body is even parsed, so a caller who may not register
/// learns that first, not what the body would need.
pub fn may_register(p: &Principal) -> Result<()> {
    p.require_writer()?;
    if p.key_project().is_some() {
        return Err(Error::forbidden(
            "a project key is locked to its project and cannot register new ones",
            "use a personal access token (PAT) or the dashboard to register a project",
        ));
    }
    Ok(())
}

pub async fn register(registry: Registry<'_>, p: &Principal, body: NewProject) -> Result<Project> {
    may_register(p)?;
    let mut n = body.check()?;
    let reg = registry.config.file.registration;
    if n.owner_email.is_none() {
        n.owner_email = default_owner(p).map(str::to_string);
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
    let (group, cost_center) = resolve_group(registry, n.group.as_deref(), reg.require_group)?;
    check_tier_at_registration(registry, p, &n)?;

    let now = registry.store.clock().now();
    let review_date = Some(crate::governance::review::due_date(
        n.classification,
        now,
        &n.evidence,
        &registry.config.file.review,
    ));
    let evidence_json = serde_json::to_string(&n.evidence).map_err(Error::internal)?;
    let year = i64::from(now.year());

    let mut tx = registry.store.begin().await?;
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
        .bind(n.data_class.as_str())
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
            "classification": n.classification.as_str(), "budget_usd": crate::registry::cents_to_usd(n.budget_cents),
        })),
    )
    .await?;
    let project = fetch_tx(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("project vanished")))?;
    tx.commit().await?;
    Ok(project)
}

pub(super) fn resolve_group(
    registry: Registry<'_>,
    group: Option<&str>,
    required: bool,
) -> Result<(Option<String>, Option<String>)> {
    let groups = &registry.config.file.groups;
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

fn check_tier_at_registration(registry: Registry<'_>, p: &Principal, n: &CheckedNew) -> Result<()> {
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
        &registry.config.file.classification_requirements,
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
    // The same exception that stops an automatic promotion to this tier
    // stops registering straight into it without an admin.
    if n.evidence.contains_key("stack_exception") {
        return Err(Error::invalid_hint(
            "classification",
            "a project running outside the supported stack (stack_exception) registers at light-operational only by an admin",
            "register at poc and request promotion (an admin decides), or ask an admin to register it",
        ));
    }
    Ok(())
}
