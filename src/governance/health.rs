//! The portfolio-health metrics: operational projects without a support
//! path, understaffed wide and critical projects, stale PoCs, unsupported
//! stacks and how long a PoC takes to reach light-operational. Pure, like
//! the rest of `metrics`; docs/governance.md ("Metrics") defines each.

use chrono::{DateTime, Duration, Utc};

use super::Classification::{self, *};
use super::evidence::present;
use super::metrics::{Metric, Policy, ProjectRow, count, ids, maintainers, median, round2};

/// Promotions to light-operational older than this do not count in the
/// cycle's median.
pub const CYCLE_WINDOW_DAYS: i64 = 90;

const SECS_PER_DAY: f64 = 86_400.0;

/// The five metrics over `projects` (one tier, `tier`, or all).
pub(super) fn measure(
    projects: &[&ProjectRow],
    tier: Option<Classification>,
    policy: Policy<'_>,
    now: DateTime<Utc>,
) -> Vec<Metric> {
    let live: Vec<&ProjectRow> = projects.iter().copied().filter(|p| !p.killed).collect();
    let applies =
        |from: Classification, to: Classification| tier.is_none_or(|t| t >= from && t <= to);

    let unsupported_path = if applies(LightOperational, CriticalPath) {
        let off = ids(live
            .iter()
            .filter(|p| p.tier > Poc && !has_support_path(p))
            .map(|p| p.id.as_str()));
        count(
            "no_support_path_operational",
            "Operational projects without a support path",
            off.len(),
            Some(0.0),
            off,
            "live projects above poc recording neither a support_contact nor an incident_path"
                .into(),
        )
    } else {
        not_applicable(
            "no_support_path_operational",
            "Operational projects without a support path",
            "counts only projects above poc",
        )
    };

    let understaffed = if applies(WideOperational, CriticalPath) {
        let off = ids(live
            .iter()
            .filter(|p| p.tier >= WideOperational)
            .filter(|p| maintainers(p) < policy.maintainer_min as usize)
            .map(|p| p.id.as_str()));
        count(
            "understaffed_wide_critical",
            "Understaffed wide-operational and critical-path projects",
            off.len(),
            Some(0.0),
            off,
            format!(
                "live wide-operational and critical-path projects with fewer than {} distinct people among owner, manager and the maintainers evidence",
                policy.maintainer_min
            ),
        )
    } else {
        not_applicable(
            "understaffed_wide_critical",
            "Understaffed wide-operational and critical-path projects",
            "counts only wide-operational and critical-path projects",
        )
    };

    let stale = if applies(Poc, Poc) {
        let window = Duration::days(i64::from(policy.poc_window_days));
        let off = ids(live
            .iter()
            .filter(|p| p.tier == Poc && now - entered_poc(p, now) > window)
            .map(|p| p.id.as_str()));
        count(
            "stale_pocs",
            "Stale PoCs",
            off.len(),
            Some(0.0),
            off,
            format!(
                "live PoCs that have been PoCs for more than {} days (since registration or their latest demotion to poc; extensions do not reset it)",
                policy.poc_window_days
            ),
        )
    } else {
        not_applicable("stale_pocs", "Stale PoCs", "counts only poc projects")
    };

    let exceptions = ids(live
        .iter()
        .filter(|p| present(&p.evidence, "stack_exception"))
        .map(|p| p.id.as_str()));
    let stack = count(
        "unsupported_stack",
        "Projects on an unsupported stack",
        exceptions.len(),
        Some(0.0),
        exceptions,
        "live projects recording a stack_exception".into(),
    );

    vec![
        unsupported_path,
        understaffed,
        stale,
        stack,
        light_cycle(projects, policy, now),
    ]
}

/// A project has a support path when it records whom to contact or how an
/// incident is raised: either is a way for its users to reach someone.
fn has_support_path(p: &ProjectRow) -> bool {
    present(&p.evidence, "support_contact") || present(&p.evidence, "incident_path")
}

/// When the project last became a PoC, as of `at`: its registration, or
/// its latest demotion to poc up to then.
fn entered_poc(p: &ProjectRow, at: DateTime<Utc>) -> DateTime<Utc> {
    p.tier_changes
        .iter()
        .filter(|c| c.to == Poc && c.at <= at)
        .map(|c| c.at)
        .fold(p.created_at, DateTime::max)
}

/// Each promotion from poc to light-operational in the window, as the
/// project and the days it spent as a PoC before it.
fn light_cycles(projects: &[&ProjectRow], now: DateTime<Utc>) -> Vec<(String, f64)> {
    let since = now - Duration::days(CYCLE_WINDOW_DAYS);
    let mut out = Vec::new();
    for p in projects {
        for c in &p.tier_changes {
            if c.from == Poc && c.to == LightOperational && c.at >= since && c.at <= now {
                let days = (c.at - entered_poc(p, c.at)).num_seconds().max(0) as f64 / SECS_PER_DAY;
                out.push((p.id.clone(), days));
            }
        }
    }
    out
}

fn light_cycle(projects: &[&ProjectRow], policy: Policy<'_>, now: DateTime<Utc>) -> Metric {
    let cycles = light_cycles(projects, now);
    let target = f64::from(policy.poc_window_days);
    let value = median(cycles.iter().map(|(_, d)| *d).collect());
    let slow = ids(cycles
        .iter()
        .filter(|(_, d)| *d > target)
        .map(|(p, _)| p.as_str()));
    Metric {
        key: "light_promotion_cycle_days",
        label: "PoC to light-operational cycle",
        unit: "days",
        value: value.map(round2),
        target: Some(target),
        offenders: slow,
        measurable: value.is_some(),
        note: if value.is_some() {
            format!(
                "median days from becoming a PoC (registration or a demotion to poc) to the promotion to light-operational, over promotions of the last {CYCLE_WINDOW_DAYS} days; projects registered at light-operational do not count"
            )
        } else {
            format!(
                "no project was promoted from poc to light-operational in the last {CYCLE_WINDOW_DAYS} days"
            )
        },
    }
}

/// A metric that does not apply to the tier it is reported under: not
/// measured (never a made-up 0).
fn not_applicable(key: &'static str, label: &'static str, why: &str) -> Metric {
    Metric {
        key,
        label,
        unit: "projects",
        value: None,
        target: Some(0.0),
        offenders: vec![],
        measurable: false,
        note: format!("not applicable to this tier: {why}"),
    }
}
