//! The catalog as one project sees it: for each service, whether a request
//! at its base estimate would run with no person, and if not, why. The
//! answer comes from the same rule `request_resource` applies
//! (`admission::approval_reasons`), so the catalog cannot promise what the
//! ask then refuses to do.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use super::Provisioner;
use super::admission::{self, ApprovalReason, Ask};
use super::request::COMMITTED;
use crate::auth::Principal;
use crate::catalog::Manifest;
use crate::error::{Error, Result};
use crate::governance::Classification;
use crate::registry::{Project, projects};

/// What a request of a service would meet in one project.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ServiceApproval {
    pub project_id: String,
    pub classification: Classification,
    /// A request at `estimate_monthly_usd` would run with no person.
    pub auto: bool,
    /// Why not (empty when `auto`): `code` is stable; besides the approval
    /// rule's codes, `outside_tier_range` and `project_frozen` say the
    /// request would be refused outright.
    pub reasons: Vec<ApprovalReason>,
    /// The estimate this answer assumes: the service's base estimate (inputs
    /// priced per unit add to it).
    pub estimate_monthly_usd: f64,
    /// What the project's resources commit now.
    pub committed_monthly_usd: f64,
}

/// The project the caller asks the catalog about: a project key's own
/// project, or the one named (a key may not name another).
pub fn project_of(p: &Principal, given: Option<String>) -> Result<Option<String>> {
    // An empty `?project=` is no project, not one named "".
    let given = given.filter(|g| !g.trim().is_empty());
    match (p.key_project(), given) {
        (Some(own), Some(g)) if g != own => Err(Error::forbidden(
            format!("this key is locked to {own} and cannot see the catalog of {g}"),
            "omit the project, or use a key of that project",
        )),
        (Some(own), _) => Ok(Some(own.to_string())),
        (None, given) => Ok(given),
    }
}

/// The project (as the caller may see it) and what it commits, in cents.
pub async fn read(pv: Provisioner<'_>, p: &Principal, id: &str) -> Result<(Project, i64)> {
    let pr = projects::get(pv.registry, p, id).await?;
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(estimate_cents), 0) AS BIGINT) FROM resources WHERE project_id = $1 AND state IN {COMMITTED}"
    );
    let committed: i64 = on_pool!(pv.store.read(), |pool| sqlx::query_scalar::<_, i64>(&sql)
        .bind(&pr.id)
        .fetch_one(pool)
        .await)?;
    Ok((pr, committed))
}

/// What a request of `m` would meet in `pr`, which commits `committed`.
pub fn approval(
    pv: Provisioner<'_>,
    m: &Manifest,
    pr: &Project,
    committed: i64,
) -> ServiceApproval {
    let estimate = m.estimate_cents(&json!({}));
    let mut reasons = Vec::new();
    if pr.require_live().is_err() {
        reasons.push(ApprovalReason {
            code: "project_frozen".into(),
            message: format!(
                "project {} is killed or retired: it takes no requests",
                pr.id
            ),
        });
    }
    if super::gate::check_tier(m, pr.classification).is_err() {
        reasons.push(ApprovalReason {
            code: "outside_tier_range".into(),
            message: format!(
                "{} is available from {} to {}, and this project is {}",
                m.id,
                m.classification_min.as_str(),
                m.classification_max.as_str(),
                pr.classification.as_str()
            ),
        });
    }
    reasons.extend(admission::approval_reasons(&Ask {
        service: m,
        tier: pr.classification,
        review_overdue: admission::review_overdue(pr, pv.store.clock().now()),
        gated: false,
        estimate,
        others: committed,
        policy: &pv.config.file.provisioning.auto_approve,
    }));
    ServiceApproval {
        project_id: pr.id.clone(),
        classification: pr.classification,
        auto: reasons.is_empty(),
        reasons,
        estimate_monthly_usd: estimate as f64 / 100.0,
        committed_monthly_usd: committed as f64 / 100.0,
    }
}

/// `list_services` / `GET /api/services`: the catalog, whether provisioning
/// is armed, and with a project each service's `approval` for it.
pub async fn list(
    pv: Provisioner<'_>,
    p: &Principal,
    project: Option<String>,
) -> Result<serde_json::Value> {
    let project = match project_of(p, project)? {
        Some(id) => Some(read(pv, p, &id).await?),
        None => None,
    };
    let services: Vec<serde_json::Value> = pv
        .catalog
        .all()
        .map(|m| with_approval(pv, m.summary_json(), m, project.as_ref()))
        .collect();
    Ok(json!({
        "services": services,
        "armed": pv.config.terraform.is_some(),
        "project_id": project.as_ref().map(|(pr, _)| pr.id.clone()),
    }))
}

/// `get_service` / `GET /api/services/{id}`: one service, with `approval`
/// for the caller's project when there is one.
pub async fn get(
    pv: Provisioner<'_>,
    p: &Principal,
    id: &str,
    project: Option<String>,
) -> Result<serde_json::Value> {
    let m = pv.catalog.get(id).ok_or_else(|| Error::NotFound {
        what: format!("service {id}"),
        hint: "call list_services for the catalog".into(),
    })?;
    let project = match project_of(p, project)? {
        Some(pid) => Some(read(pv, p, &pid).await?),
        None => None,
    };
    Ok(with_approval(pv, m.to_json(), m, project.as_ref()))
}

fn with_approval(
    pv: Provisioner<'_>,
    mut v: serde_json::Value,
    m: &Manifest,
    project: Option<&(Project, i64)>,
) -> serde_json::Value {
    if let (Some((pr, committed)), Some(o)) = (project, v.as_object_mut()) {
        let a = approval(pv, m, pr, *committed);
        o.insert(
            "approval".into(),
            serde_json::to_value(a).unwrap_or(serde_json::Value::Null),
        );
    }
    v
}
