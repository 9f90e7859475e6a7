//! Portfolio metrics: what a governance officer reads to see whether the
//! projects hold up. Pure: the loaded rows, the policy and the time in, the
//! answer out. `portfolio` loads the rows; docs/governance.md ("Metrics")
//! defines every metric.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use super::Classification;
use super::evidence::{self, Evidence};
use super::health;

/// Every metric key, in answer order (also the `/metrics` gauge names).
pub const KEYS: [&str; 14] = [
    "projects",
    "overdue_reviews",
    "below_maintainer_min",
    "missing_evidence",
    "pending_approvals",
    "oldest_pending_approval_hours",
    "median_approval_latency_hours",
    "killed_projects",
    "committed_monthly_usd",
    "no_support_path_operational",
    "understaffed_wide_critical",
    "stale_pocs",
    "unsupported_stack",
    "light_promotion_cycle_days",
];

/// A pending approval older than this is late.
pub const PENDING_TARGET_HOURS: f64 = 48.0;
/// The median decision should come within a working day.
pub const LATENCY_TARGET_HOURS: f64 = 24.0;
/// Decisions older than this do not count in the median latency.
pub const LATENCY_WINDOW_DAYS: i64 = 90;

/// One project as the metrics need it (decommissioned ones are not loaded).
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: String,
    pub tier: Classification,
    pub killed: bool,
    pub review_state: String,
    pub review_date: Option<DateTime<Utc>>,
    pub owner_email: String,
    pub manager_email: String,
    pub evidence: Evidence,
    pub budget_cents: i64,
    /// What the project's resources commit per month (`provisioning::estimate`).
    pub committed_cents: i64,
    pub created_at: DateTime<Utc>,
    /// Its promotions and demotions, in any order.
    pub tier_changes: Vec<TierChange>,
}

/// One promotion or demotion of a project (`project.promoted` /
/// `project.demoted` audit rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierChange {
    pub at: DateTime<Utc>,
    pub from: Classification,
    pub to: Classification,
}

/// A request that waited for a person: still waiting (`decided_at: None`)
/// or decided at `decided_at`.
#[derive(Debug, Clone)]
pub struct ApprovalRow {
    pub project_id: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// The operator's policy the metrics measure against.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub maintainer_min: u32,
    /// `review.poc_window_days`: how long a PoC is expected to take.
    pub poc_window_days: u32,
    pub overrides: &'a BTreeMap<Classification, Vec<String>>,
}

/// Whose projects an answer covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MetricsScope {
    /// Every project (admins and auditors).
    Organisation,
    /// The caller's own: a key's project, or what a member owns or manages.
    Own,
}

/// The portfolio metrics, overall and per tier.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct GovernanceMetrics {
    pub as_of: DateTime<Utc>,
    pub scope: MetricsScope,
    /// Projects not decommissioned, killed ones included.
    pub total_projects: u64,
    /// Of those, the ones above `poc`.
    pub operational_projects: u64,
    /// `governance.maintainer_min` from the configuration.
    pub maintainer_min: u32,
    pub metrics: Vec<Metric>,
    /// The same metrics for each tier, lowest first.
    pub tiers: Vec<TierMetrics>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TierMetrics {
    pub tier: Classification,
    pub metrics: Vec<Metric>,
}

/// One metric: its value against its target, and the projects that miss it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Metric {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    /// `null` when not measurable (never a made-up 0).
    pub value: Option<f64>,
    /// `null` for a count that has no target (informational).
    pub target: Option<f64>,
    /// Project ids that miss the target, sorted.
    pub offenders: Vec<String>,
    /// `false` when there is no data to measure (the value is then null).
    pub measurable: bool,
    pub note: String,
}

impl GovernanceMetrics {
    /// The overall metric `key`.
    pub fn get(&self, key: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.key == key)
    }
}

/// Distinct people who answer for a project: its owner, its manager and the
/// `maintainers` evidence, compared as lower-cased emails.
pub fn maintainers(p: &ProjectRow) -> usize {
    let mut people: BTreeSet<String> = BTreeSet::new();
    people.insert(p.owner_email.trim().to_lowercase());
    people.insert(p.manager_email.trim().to_lowercase());
    if let Some(serde_json::Value::Array(list)) = p.evidence.get("maintainers") {
        for m in list.iter().filter_map(|v| v.as_str()) {
            people.insert(m.trim().to_lowercase());
        }
    }
    people.remove("");
    people.len()
}

/// Whether a project's review is overdue at `now`: marked so by the sweep,
/// or its review date has passed (before the sweep ran).
pub fn review_overdue(p: &ProjectRow, now: DateTime<Utc>) -> bool {
    p.review_state == "overdue" || p.review_date.is_some_and(|d| d < now)
}

/// Evidence a project still lacks for its next tier (its own at the top).
pub fn missing(p: &ProjectRow, overrides: &BTreeMap<Classification, Vec<String>>) -> Vec<String> {
    evidence::missing_for(&p.evidence, p.tier.next().unwrap_or(p.tier), overrides)
}

fn hours(d: Duration) -> f64 {
    d.num_seconds().max(0) as f64 / 3600.0
}

pub(super) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

pub(super) fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

pub(super) fn ids<'a>(it: impl Iterator<Item = &'a str>) -> Vec<String> {
    let set: BTreeSet<&str> = it.collect();
    set.into_iter().map(str::to_string).collect()
}

pub(super) fn count(
    key: &'static str,
    label: &'static str,
    n: usize,
    target: Option<f64>,
    offenders: Vec<String>,
    note: String,
) -> Metric {
    Metric {
        key,
        label,
        unit: "projects",
        value: Some(n as f64),
        target,
        offenders,
        measurable: true,
        note,
    }
}

/// The metrics over `projects` (one tier or all, `tier`) and their approvals.
fn measure(
    projects: &[&ProjectRow],
    approvals: &[&ApprovalRow],
    tier: Option<Classification>,
    policy: Policy<'_>,
    now: DateTime<Utc>,
) -> Vec<Metric> {
    let live: Vec<&ProjectRow> = projects.iter().copied().filter(|p| !p.killed).collect();
    let overdue = ids(live
        .iter()
        .filter(|p| review_overdue(p, now))
        .map(|p| p.id.as_str()));
    let thin = ids(live
        .iter()
        .filter(|p| maintainers(p) < policy.maintainer_min as usize)
        .map(|p| p.id.as_str()));
    let lacking = ids(live
        .iter()
        .filter(|p| !missing(p, policy.overrides).is_empty())
        .map(|p| p.id.as_str()));
    let killed = ids(projects.iter().filter(|p| p.killed).map(|p| p.id.as_str()));

    let pending: Vec<&ApprovalRow> = approvals
        .iter()
        .copied()
        .filter(|a| a.decided_at.is_none())
        .collect();
    let oldest = pending
        .iter()
        .map(|a| hours(now - a.created_at))
        .fold(None, |m: Option<f64>, h| Some(m.map_or(h, |m| m.max(h))));
    let late = ids(pending
        .iter()
        .filter(|a| hours(now - a.created_at) > PENDING_TARGET_HOURS)
        .map(|a| a.project_id.as_str()));

    let since = now - Duration::days(LATENCY_WINDOW_DAYS);
    let decided: Vec<(&str, f64)> = approvals
        .iter()
        .filter_map(|a| a.decided_at.filter(|d| *d >= since).map(|d| (a, d)))
        .map(|(a, d)| (a.project_id.as_str(), hours(d - a.created_at)))
        .collect();
    let latency = median(decided.iter().map(|(_, h)| *h).collect());
    let slow = ids(decided
        .iter()
        .filter(|(_, h)| *h > LATENCY_TARGET_HOURS)
        .map(|(p, _)| *p));

    let committed: i64 = projects.iter().map(|p| p.committed_cents).sum();
    let budgeted: Vec<&&ProjectRow> = projects.iter().filter(|p| p.budget_cents > 0).collect();
    let budget: i64 = budgeted.iter().map(|p| p.budget_cents).sum();
    let over = ids(budgeted
        .iter()
        .filter(|p| p.committed_cents > p.budget_cents)
        .map(|p| p.id.as_str()));

    let mut out = vec![
        count(
            "projects",
            "Projects",
            projects.len(),
            None,
            vec![],
            "not decommissioned, killed ones included; informational".into(),
        ),
        count(
            "overdue_reviews",
            "Overdue reviews",
            overdue.len(),
            Some(0.0),
            overdue,
            "marked overdue by the review sweep, or past the review date".into(),
        ),
        count(
            "below_maintainer_min",
            "Below the maintainer minimum",
            thin.len(),
            Some(0.0),
            thin,
            format!(
                "fewer than {} distinct people among owner, manager and the maintainers evidence",
                policy.maintainer_min
            ),
        ),
        count(
            "missing_evidence",
            "Missing evidence",
            lacking.len(),
            Some(0.0),
            lacking,
            "lacking a field the next tier requires (the own tier's at the top)".into(),
        ),
        Metric {
            unit: "requests",
            ..count(
                "pending_approvals",
                "Pending approvals",
                pending.len(),
                None,
                ids(pending.iter().map(|a| a.project_id.as_str())),
                "requests waiting for a person; offenders are their projects".into(),
            )
        },
        Metric {
            key: "oldest_pending_approval_hours",
            label: "Oldest pending approval",
            unit: "hours",
            value: oldest.map(round2),
            target: Some(PENDING_TARGET_HOURS),
            offenders: late,
            measurable: oldest.is_some(),
            note: if oldest.is_some() {
                "age of the oldest request waiting for a person".into()
            } else {
                "no request is waiting for a person".into()
            },
        },
        Metric {
            key: "median_approval_latency_hours",
            label: "Median approval latency",
            unit: "hours",
            value: latency.map(round2),
            target: Some(LATENCY_TARGET_HOURS),
            offenders: slow,
            measurable: latency.is_some(),
            note: if latency.is_some() {
                format!(
                    "from asking to the approval or rejection, over the last {LATENCY_WINDOW_DAYS} days"
                )
            } else {
                format!("no request was approved or rejected in the last {LATENCY_WINDOW_DAYS} days")
            },
        },
        count(
            "killed_projects",
            "Killed projects",
            killed.len(),
            Some(0.0),
            killed,
            "frozen by the kill switch".into(),
        ),
        Metric {
            key: "committed_monthly_usd",
            label: "Committed monthly cost",
            unit: "usd",
            value: Some(round2(committed as f64 / 100.0)),
            target: (budget > 0).then(|| round2(budget as f64 / 100.0)),
            offenders: over,
            measurable: true,
            note: "committed monthly estimates against the sum of the budgets set; offenders are over their own budget".into(),
        },
    ];
    out.extend(health::measure(projects, tier, policy, now));
    out
}

/// The portfolio metrics of `projects` and their `approvals` at `now`.
pub fn compute(
    projects: &[ProjectRow],
    approvals: &[ApprovalRow],
    policy: Policy<'_>,
    scope: MetricsScope,
    now: DateTime<Utc>,
) -> GovernanceMetrics {
    let tier_of: BTreeMap<&str, Classification> =
        projects.iter().map(|p| (p.id.as_str(), p.tier)).collect();
    // Approvals of a project outside the answer's projects do not count.
    let approvals: Vec<&ApprovalRow> = approvals
        .iter()
        .filter(|a| tier_of.contains_key(a.project_id.as_str()))
        .collect();
    let all: Vec<&ProjectRow> = projects.iter().collect();
    let tiers = Classification::ALL
        .into_iter()
        .map(|tier| {
            let ps: Vec<&ProjectRow> = all.iter().copied().filter(|p| p.tier == tier).collect();
            let ap: Vec<&ApprovalRow> = approvals
                .iter()
                .copied()
                .filter(|a| tier_of.get(a.project_id.as_str()) == Some(&tier))
                .collect();
            TierMetrics {
                tier,
                metrics: measure(&ps, &ap, Some(tier), policy, now),
            }
        })
        .collect();
    GovernanceMetrics {
        as_of: now,
        scope,
        total_projects: projects.len() as u64,
        operational_projects: projects
            .iter()
            .filter(|p| p.tier > Classification::Poc)
            .count() as u64,
        maintainer_min: policy.maintainer_min,
        metrics: measure(&all, &approvals, None, policy, now),
        tiers,
    }
}
