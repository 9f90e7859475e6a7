//! The portfolio-metrics use case: one read loads the rows the metrics need
//! (projects with what their resources commit, and the requests that waited
//! for a person), then `metrics::compute` measures them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::Classification;
use super::metrics::{
    self, ApprovalRow, GovernanceMetrics, MetricsScope, Policy, ProjectRow, TierChange,
};
use crate::auth::Principal;
use crate::error::Result;
use crate::provisioning::request::COMMITTED;
use crate::registry::{Project, Registry};

/// Whose projects are measured, as the two bind values of `SCOPED`:
/// nothing (every project), a key's project id, or a person's email.
struct Scope {
    value: Option<String>,
    by_key: bool,
}

/// Projects in the scope, decommissioned ones left out.
const SCOPED: &str = "p.lifecycle <> 'decommissioned' AND ($1 IS NULL OR (CASE WHEN $2 THEN p.id = $1 ELSE (p.owner_email = $1 OR p.manager_email = $1) END))";

fn scope_of(p: &Principal) -> (Scope, MetricsScope) {
    if p.reads_everything() {
        (
            Scope {
                value: None,
                by_key: false,
            },
            MetricsScope::Organisation,
        )
    } else if let Some(k) = p.key_project() {
        (
            Scope {
                value: Some(k.to_string()),
                by_key: true,
            },
            MetricsScope::Own,
        )
    } else {
        // A caller without an email owns nothing: the empty string matches
        // no project (emails are validated non-empty).
        (
            Scope {
                value: Some(p.email().unwrap_or("").to_string()),
                by_key: false,
            },
            MetricsScope::Own,
        )
    }
}

/// The metrics the caller may see: every project for an admin or auditor,
/// the key's project for a project key, and otherwise the projects the
/// caller owns or manages.
pub async fn metrics(reg: Registry<'_>, p: &Principal) -> Result<GovernanceMetrics> {
    let (scope, kind) = scope_of(p);
    measure(reg, &scope, kind).await
}

/// Every project's metrics, for the `/metrics` exposition (no caller: the
/// exposition has its own access rule).
pub async fn organisation(reg: Registry<'_>) -> Result<GovernanceMetrics> {
    let scope = Scope {
        value: None,
        by_key: false,
    };
    measure(reg, &scope, MetricsScope::Organisation).await
}

async fn measure(
    reg: Registry<'_>,
    scope: &Scope,
    kind: MetricsScope,
) -> Result<GovernanceMetrics> {
    let now = reg.store.clock().now();
    let (projects, approvals) = load(reg, scope, now).await?;
    let policy = Policy {
        maintainer_min: reg.config.file.governance.maintainer_min,
        poc_window_days: reg.config.file.review.poc_window_days,
        overrides: &reg.config.file.classification_requirements,
    };
    Ok(metrics::compute(&projects, &approvals, policy, kind, now))
}

#[derive(sqlx::FromRow)]
struct Committed {
    project_id: String,
    cents: i64,
}

#[derive(sqlx::FromRow)]
struct Pending {
    project_id: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Changed {
    project_id: String,
    at: DateTime<Utc>,
    data: String,
}

#[derive(serde::Deserialize)]
struct ChangeData {
    from: Classification,
    to: Classification,
}

#[derive(sqlx::FromRow)]
struct Decided {
    project_id: String,
    created_at: DateTime<Utc>,
    decided_at: DateTime<Utc>,
}

/// The rows: projects in scope, what each commits, the requests waiting
/// for a person, and those decided within the latency window. A decision's
/// time is its audit row's (`request.approved` / `request.rejected`), the
/// one place it is recorded exactly once.
async fn load(
    reg: Registry<'_>,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<(Vec<ProjectRow>, Vec<ApprovalRow>)> {
    let cols = crate::registry::PROJECT_COLS
        .split(", ")
        .map(|c| format!("p.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let projects_sql = format!("SELECT {cols} FROM projects p WHERE {SCOPED} ORDER BY p.id");
    let committed_sql = format!(
        "SELECT r.project_id AS project_id, CAST(COALESCE(SUM(r.estimate_cents), 0) AS BIGINT) AS cents
         FROM resources r JOIN projects p ON p.id = r.project_id
         WHERE r.state IN {COMMITTED} AND {SCOPED} GROUP BY r.project_id"
    );
    // Provisioning requests and governance ones (promotions, extensions)
    // are one approval mechanism, so both count; a governance request
    // records its own decision time.
    let waited_sql = format!(
        "SELECT r.project_id AS project_id, r.created_at AS created_at
         FROM requests r JOIN projects p ON p.id = r.project_id
         WHERE r.state = 'pending_approval' AND {SCOPED}
         UNION ALL
         SELECT g.project_id AS project_id, g.created_at AS created_at
         FROM governance_requests g JOIN projects p ON p.id = g.project_id
         WHERE g.state = 'pending_approval' AND {SCOPED}"
    );
    let decided_sql = format!(
        "SELECT r.project_id AS project_id, r.created_at AS created_at, a.at AS decided_at
         FROM audit_events a JOIN requests r ON r.id = a.target JOIN projects p ON p.id = r.project_id
         WHERE a.action IN ('request.approved', 'request.rejected') AND a.at >= $3 AND {SCOPED}
         UNION ALL
         SELECT g.project_id AS project_id, g.created_at AS created_at, g.decided_at AS decided_at
         FROM governance_requests g JOIN projects p ON p.id = g.project_id
         WHERE g.decided_at IS NOT NULL AND g.decided_by IS NOT NULL AND g.decided_at >= $3 AND {SCOPED}"
    );
    // Every promotion and demotion, not only recent ones: when a PoC
    // started can lie before any window.
    let changes_sql = format!(
        "SELECT a.project_id AS project_id, a.at AS at, a.data AS data
         FROM audit_events a JOIN projects p ON p.id = a.project_id
         WHERE a.action IN ('project.promoted', 'project.demoted') AND {SCOPED}"
    );
    let since = now - Duration::days(metrics::LATENCY_WINDOW_DAYS);
    let (v, k) = (&scope.value, scope.by_key);
    let rows: Vec<Project> = on_pool!(reg.store.read(), |pool| {
        sqlx::query_as::<_, Project>(&projects_sql)
            .bind(v)
            .bind(k)
            .fetch_all(pool)
            .await
    })?;
    let committed: Vec<Committed> = on_pool!(reg.store.read(), |pool| {
        sqlx::query_as::<_, Committed>(&committed_sql)
            .bind(v)
            .bind(k)
            .fetch_all(pool)
            .await
    })?;
    let pending: Vec<Pending> = on_pool!(reg.store.read(), |pool| {
        sqlx::query_as::<_, Pending>(&waited_sql)
            .bind(v)
            .bind(k)
            .fetch_all(pool)
            .await
    })?;
    let decided: Vec<Decided> = on_pool!(reg.store.read(), |pool| {
        sqlx::query_as::<_, Decided>(&decided_sql)
            .bind(v)
            .bind(k)
            .bind(since)
            .fetch_all(pool)
            .await
    })?;
    let changed: Vec<Changed> = on_pool!(reg.store.read(), |pool| {
        sqlx::query_as::<_, Changed>(&changes_sql)
            .bind(v)
            .bind(k)
            .fetch_all(pool)
            .await
    })?;
    let mut changes: HashMap<String, Vec<TierChange>> = HashMap::new();
    for c in changed {
        // The audit data is ours; a row that does not read as a tier
        // change is left out of the history rather than failing the answer.
        if let Ok(d) = serde_json::from_str::<ChangeData>(&c.data) {
            changes.entry(c.project_id).or_default().push(TierChange {
                at: c.at,
                from: d.from,
                to: d.to,
            });
        }
    }
    let committed: HashMap<String, i64> = committed
        .into_iter()
        .map(|c| (c.project_id, c.cents))
        .collect();
    let projects = rows
        .into_iter()
        .map(|pr| ProjectRow {
            evidence: pr.evidence_map(),
            committed_cents: committed.get(&pr.id).copied().unwrap_or(0),
            tier: pr.classification,
            killed: pr.killed,
            review_state: pr.review_state,
            review_date: pr.review_date,
            owner_email: pr.owner_email,
            manager_email: pr.manager_email,
            budget_cents: pr.budget_cents,
            created_at: pr.created_at,
            tier_changes: changes.remove(&pr.id).unwrap_or_default(),
            id: pr.id,
        })
        .collect();
    let approvals = pending
        .into_iter()
        .map(|w| ApprovalRow {
            project_id: w.project_id,
            created_at: w.created_at,
            decided_at: None,
        })
        .chain(decided.into_iter().map(|w| ApprovalRow {
            project_id: w.project_id,
            created_at: w.created_at,
            decided_at: Some(w.decided_at),
        }))
        .collect();
    Ok((projects, approvals))
}
