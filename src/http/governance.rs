//! `/api/governance/metrics` (the portfolio metrics) and `/api/cost` (the
//! organisation's cost rollups, JSON or CSV).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::{Api, AppState, Reply};
use crate::auth::Principal;
use crate::error::Error;
use crate::governance::metrics::GovernanceMetrics;
use crate::governance::portfolio;
use crate::provisioning::rollup::{self, CostRollup};

pub fn routes(api: Api) -> Api {
    api.get("/api/governance/metrics", metrics)
        .doc("Portfolio metrics, overall and per tier, each with its target and offenders (org-wide for admins and auditors; otherwise the caller's own projects)")
        .answer::<GovernanceMetrics>()
        .get("/api/cost", cost)
        .doc("Committed monthly estimates and estimated spend to date, grouped by group, cost_center, classification, project or owner (admins and auditors); CSV with Accept: text/csv or format=csv")
        .query(&["by", "format"])
        .answer::<CostRollup>()
}

async fn metrics(
    State(app): State<AppState>,
    p: Principal,
) -> Result<Reply<GovernanceMetrics>, ApiError> {
    Ok(Reply(portfolio::metrics(app.registry(), &p).await?))
}

/// Whether the caller asked for CSV: `format` wins, else the `Accept`
/// header naming `text/csv`.
fn wants_csv(q: &HashMap<String, String>, headers: &HeaderMap) -> Result<bool, Error> {
    match q.get("format").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(Error::invalid_hint(
            "format",
            "is not a known format",
            "use format=json or format=csv (or send Accept: text/csv)",
        )),
        None => Ok(headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|m| {
                m.split(';')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
            })),
    }
}

async fn cost(
    State(app): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    // Who may read it is checked before the parameters are.
    let report = rollup::rollup(app.provisioner(), &p, q.get("by").map(String::as_str)).await?;
    let csv = wants_csv(&q, &headers)?;
    if !csv {
        return Ok(Reply(report).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"asgard-cost.csv\"",
            ),
        ],
        report.to_csv(),
    )
        .into_response())
}
