//! Organisation cost rollups (`GET /api/cost?by=…`): what the projects
//! commit per month and an estimated spend to date, grouped by group, cost
//! center, tier, project or owner. Spend is never read from a billing API:
//! it is each resource's monthly estimate times the time it was provisioned.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::{Provisioner, estimate, request::COMMITTED};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::governance::Classification;

/// Hours in a billing month, the convention cloud price lists use.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// What a rollup groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RollupBy {
    Group,
    CostCenter,
    Classification,
    Project,
    Owner,
}

impl RollupBy {
    const ALL: [(&'static str, RollupBy); 5] = [
        ("group", RollupBy::Group),
        ("cost_center", RollupBy::CostCenter),
        ("classification", RollupBy::Classification),
        ("project", RollupBy::Project),
        ("owner", RollupBy::Owner),
    ];

    /// The `by` parameter; absent means `project`.
    pub fn parse(s: Option<&str>) -> Result<RollupBy> {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(RollupBy::Project);
        };
        Self::ALL
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, b)| *b)
            .ok_or_else(|| {
                Error::invalid_hint(
                    "by",
                    "is not a rollup dimension",
                    "use one of: group, cost_center, classification, project, owner",
                )
            })
    }
}

/// Committed monthly estimates and estimated spend, grouped.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CostRollup {
    pub as_of: DateTime<Utc>,
    pub by: RollupBy,
    pub currency: &'static str,
    /// Sorted by key; a `null` key collects projects without one (no group
    /// or no cost center).
    pub rows: Vec<RollupRow>,
    pub totals: RollupTotals,
    pub spend_to_date: SpendBasis,
}

/// One group's figures.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RollupRow {
    pub key: Option<String>,
    /// The project's name, or the group's display name; else `null`.
    pub label: Option<String>,
    pub projects: u64,
    /// The sum of the budgets set (0 when none is).
    pub budget_usd: f64,
    pub committed_monthly_usd: f64,
    /// An estimate, not billing data (see `spend_to_date`).
    pub estimated_spend_to_date_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RollupTotals {
    pub projects: u64,
    pub budget_usd: f64,
    pub committed_monthly_usd: f64,
    pub estimated_spend_to_date_usd: f64,
}

/// How spend to date is estimated (always an estimate in this version).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SpendBasis {
    pub estimate: bool,
    pub note: &'static str,
}

const SPEND_NOTE: &str = "estimated: each resource's monthly estimate, pro rata per hour (730 hours a month), from each successful apply until its successful destroy or now; not billing data";

/// One successful run of a resource: from `at` it costs `monthly_cents` a
/// month (a create or update), or nothing (`None`: a destroy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Applied {
    pub at: DateTime<Utc>,
    pub monthly_cents: Option<i64>,
}

/// Estimated spend in cents of one resource whose successful runs are
/// `runs` (oldest first), up to `now`.
pub fn spend_cents(runs: &[Applied], now: DateTime<Utc>) -> f64 {
    let mut total = 0.0;
    for (i, run) in runs.iter().enumerate() {
        let Some(rate) = run.monthly_cents else {
            continue;
        };
        let until = runs.get(i + 1).map_or(now, |n| n.at).min(now);
        let secs = (until - run.at).num_seconds().max(0) as f64;
        total += rate.max(0) as f64 * secs / 3600.0 / HOURS_PER_MONTH;
    }
    total
}

/// One project's figures before grouping.
#[derive(Debug, Clone)]
pub struct CostProject {
    pub id: String,
    pub name: String,
    pub owner_email: String,
    pub grp: Option<String>,
    pub cost_center: Option<String>,
    pub tier: Classification,
    pub budget_cents: i64,
    pub committed_cents: i64,
    pub spend_cents: f64,
}

fn usd(cents: f64) -> f64 {
    (cents).round() / 100.0
}

/// Group the projects' figures by `by`; `group_names` labels group keys.
pub fn group(
    projects: &[CostProject],
    by: RollupBy,
    group_names: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> CostRollup {
    // key → (label, projects, budget, committed, spend)
    type Sums = (Option<String>, u64, i64, i64, f64);
    let mut acc: BTreeMap<Option<String>, Sums> = BTreeMap::new();
    for p in projects {
        let (key, label) = match by {
            RollupBy::Group => (
                p.grp.clone(),
                p.grp.as_ref().and_then(|g| group_names.get(g).cloned()),
            ),
            RollupBy::CostCenter => (p.cost_center.clone(), None),
            RollupBy::Classification => (Some(p.tier.as_str().to_string()), None),
            RollupBy::Project => (Some(p.id.clone()), Some(p.name.clone())),
            RollupBy::Owner => (Some(p.owner_email.clone()), None),
        };
        let e = acc.entry(key).or_insert((label, 0, 0, 0, 0.0));
        e.1 += 1;
        e.2 += p.budget_cents.max(0);
        e.3 += p.committed_cents;
        e.4 += p.spend_cents;
    }
    let rows: Vec<RollupRow> = acc
        .into_iter()
        .map(|(key, (label, n, budget, committed, spend))| RollupRow {
            key,
            label,
            projects: n,
            budget_usd: usd(budget as f64),
            committed_monthly_usd: usd(committed as f64),
            estimated_spend_to_date_usd: usd(spend),
        })
        .collect();
    let totals = RollupTotals {
        projects: projects.len() as u64,
        budget_usd: usd(projects.iter().map(|p| p.budget_cents.max(0)).sum::<i64>() as f64),
        committed_monthly_usd: usd(projects.iter().map(|p| p.committed_cents).sum::<i64>() as f64),
        estimated_spend_to_date_usd: usd(projects.iter().map(|p| p.spend_cents).sum()),
    };
    CostRollup {
        as_of: now,
        by,
        currency: "USD",
        rows,
        totals,
        spend_to_date: SpendBasis {
            estimate: true,
            note: SPEND_NOTE,
        },
    }
}

/// A CSV cell: quoted when it holds a separator, quote or line break, and
/// a leading `=`, `+`, `-`, `@`, tab or CR neutralised with `'` so a
/// spreadsheet does not run a project's name as a formula.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

impl CostRollup {
    /// The rows as CSV (RFC 4180, CRLF line ends), a header line first and
    /// no totals line (a spreadsheet sums the columns).
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "key,label,projects,budget_usd,committed_monthly_usd,estimated_spend_to_date_usd\r\n",
        );
        for r in &self.rows {
            out.push_str(&format!(
                "{},{},{},{:.2},{:.2},{:.2}\r\n",
                csv_cell(r.key.as_deref().unwrap_or("")),
                csv_cell(r.label.as_deref().unwrap_or("")),
                r.projects,
                r.budget_usd,
                r.committed_monthly_usd,
                r.estimated_spend_to_date_usd
            ));
        }
        out
    }
}

#[derive(sqlx::FromRow)]
struct ProjectCols {
    id: String,
    name: String,
    owner_email: String,
    grp: Option<String>,
    cost_center: Option<String>,
    classification: Classification,
    budget_cents: i64,
}

#[derive(sqlx::FromRow)]
struct CommittedRow {
    project_id: String,
    cents: i64,
}

#[derive(sqlx::FromRow)]
struct RunRow {
    resource_id: String,
    project_id: String,
    kind: super::RequestKind,
    spec: String,
    finished_at: DateTime<Utc>,
    service: String,
    estimate_cents: i64,
}

/// The rollup for an admin or auditor: every project, decommissioned ones
/// included (their resources cost money while they ran).
/// `by` is the raw parameter (absent: `project`).
pub async fn rollup(pv: Provisioner<'_>, p: &Principal, by: Option<&str>) -> Result<CostRollup> {
    if !p.reads_everything() {
        return Err(Error::forbidden(
            "organisation cost rollups are for admins and auditors",
            "read your own project's cost at GET /api/projects/{id}/cost (MCP project_cost)",
        ));
    }
    let by = RollupBy::parse(by)?;
    let now = pv.store.clock().now();
    let projects: Vec<ProjectCols> = on_pool!(pv.store.read(), |pool| {
        sqlx::query_as::<_, ProjectCols>(
            "SELECT id, name, owner_email, grp, cost_center, classification, budget_cents FROM projects ORDER BY id",
        )
        .fetch_all(pool)
        .await
    })?;
    let committed_sql = format!(
        "SELECT project_id, CAST(COALESCE(SUM(estimate_cents), 0) AS BIGINT) AS cents FROM resources WHERE state IN {COMMITTED} GROUP BY project_id"
    );
    let committed: Vec<CommittedRow> = on_pool!(pv.store.read(), |pool| {
        sqlx::query_as::<_, CommittedRow>(&committed_sql)
            .fetch_all(pool)
            .await
    })?;
    let runs: Vec<RunRow> = on_pool!(pv.store.read(), |pool| {
        sqlx::query_as::<_, RunRow>(
            "SELECT q.resource_id, q.project_id, q.kind, q.spec, q.finished_at, r.service, r.estimate_cents
             FROM requests q JOIN resources r ON r.id = q.resource_id
             WHERE q.state = 'fulfilled' AND q.kind IN ('create', 'update', 'destroy') AND q.finished_at IS NOT NULL
             ORDER BY q.resource_id, q.finished_at, q.id",
        )
        .fetch_all(pool)
        .await
    })?;
    let committed: HashMap<String, i64> = committed
        .into_iter()
        .map(|c| (c.project_id, c.cents))
        .collect();
    // Each resource's successful runs, in order, then its spend per project.
    let mut by_resource: BTreeMap<&str, (&str, Vec<Applied>)> = BTreeMap::new();
    for r in &runs {
        let monthly = r.kind.applies_spec().then(|| {
            estimate::of_spec(pv.catalog, &r.service, &r.spec).unwrap_or(r.estimate_cents)
        });
        by_resource
            .entry(r.resource_id.as_str())
            .or_insert((r.project_id.as_str(), Vec::new()))
            .1
            .push(Applied {
                at: r.finished_at,
                monthly_cents: monthly,
            });
    }
    let mut spend: HashMap<&str, f64> = HashMap::new();
    for (project, applied) in by_resource.values() {
        *spend.entry(project).or_default() += spend_cents(applied, now);
    }
    let rows: Vec<CostProject> = projects
        .into_iter()
        .map(|p| CostProject {
            committed_cents: committed.get(&p.id).copied().unwrap_or(0),
            spend_cents: spend.get(p.id.as_str()).copied().unwrap_or(0.0),
            id: p.id,
            name: p.name,
            owner_email: p.owner_email,
            grp: p.grp,
            cost_center: p.cost_center,
            tier: p.classification,
            budget_cents: p.budget_cents,
        })
        .collect();
    let names: HashMap<String, String> = pv
        .config
        .file
        .groups
        .iter()
        .map(|g| (g.key.clone(), g.display_name.clone()))
        .collect();
    Ok(group(&rows, by, &names, now))
}

#[cfg(test)]
#[path = "rollup_tests.rs"]
mod tests;
