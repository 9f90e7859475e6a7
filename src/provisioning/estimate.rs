//! What a resource commits against its project's budget while a change to it
//! is in flight. The cloud runs the applied spec until a change is applied,
//! and a pending change may still be approved, so a resource commits the
//! larger of the two: a pending downscale frees nothing until it is applied,
//! and rejecting it can never push the project over its budget.

use serde_json::Value;

use super::{REQUEST_COLS, Request, RequestState, Resource, history};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::store::Tx;

/// The estimate a resource commits: the largest of what is applied and of
/// every change still waiting, queued or running.
pub fn committed(applied: Option<i64>, in_flight: impl IntoIterator<Item = i64>) -> i64 {
    in_flight
        .into_iter()
        .chain(applied)
        .max()
        .unwrap_or(0)
        .max(0)
}

/// Budget admission of a change that makes one resource commit `after`
/// instead of `before`, with `others` committed by the rest of the project.
/// A change that does not raise the project's total is always admitted, so a
/// project over a lowered budget can still shrink.
pub fn admits(budget: i64, others: i64, before: i64, after: i64) -> bool {
    budget <= 0 || after <= before || others + after <= budget
}

/// Whether a request is a change not finished yet (what
/// `changes_in_flight` reads).
pub fn is_in_flight(r: &Request) -> bool {
    r.kind.applies_spec()
        && matches!(
            r.state,
            RequestState::PendingApproval | RequestState::Queued | RequestState::Running
        )
}

/// Creates and updates of the resource not finished yet, oldest first.
pub async fn changes_in_flight(tx: &mut Tx, resource_id: &str) -> Result<Vec<Request>> {
    let sql = format!(
        "SELECT {REQUEST_COLS} FROM requests WHERE resource_id = $1 AND kind IN ('create', 'update') AND state IN ('pending_approval', 'queued', 'running') ORDER BY created_at, id"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Request>(&sql)
        .bind(resource_id)
        .fetch_all(&mut *c)
        .await)?)
}

/// The estimate of a recorded spec (JSON text), or `None` when the service
/// left the catalog or the text does not parse.
pub fn of_spec(catalog: &Catalog, service: &str, spec: &str) -> Option<i64> {
    let m = catalog.get(service)?;
    let v = serde_json::from_str::<Value>(spec).ok()?;
    Some(m.estimate_cents(&v))
}

/// Recompute and store what the resource commits, after a transition that
/// may have changed it (a decision, an apply, a cancelled change).
pub async fn refresh(tx: &mut Tx, catalog: &Catalog, res: &Resource) -> Result<i64> {
    let applied = history::of(tx, &res.id)
        .await?
        .last_applied
        .map(|a| of_spec(catalog, &res.service, &a.spec).unwrap_or(res.estimate_cents));
    let in_flight: Vec<i64> = changes_in_flight(tx, &res.id)
        .await?
        .iter()
        .map(|r| of_spec(catalog, &res.service, &r.spec).unwrap_or(res.estimate_cents))
        .collect();
    let cents = committed(applied, in_flight);
    on_tx!(tx, |c| {
        sqlx::query("UPDATE resources SET estimate_cents = $1 WHERE id = $2")
            .bind(cents)
            .bind(&res.id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(cents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_commits_the_larger_of_applied_and_pending() {
        // (applied, in flight, committed)
        let cases: &[(Option<i64>, &[i64], i64)] = &[
            (None, &[], 0),
            (None, &[500], 500),
            (Some(20_200), &[3_100], 20_200), // pending downscale frees nothing
            (Some(3_100), &[20_200], 20_200), // pending upscale counts at once
            (Some(100), &[300, 200], 300),
            (Some(100), &[], 100),
        ];
        for (applied, flight, want) in cases {
            assert_eq!(
                committed(*applied, flight.iter().copied()),
                *want,
                "{applied:?} {flight:?}"
            );
        }
    }

    #[test]
    fn admission_never_lets_the_total_grow_past_the_budget() {
        // (budget, others, before, after, admitted)
        let cases = [
            (0, 1_000_000, 0, 5_000, true), // no budget
            (25_000, 20_200, 0, 3_100, true),
            (25_000, 23_300, 0, 3_100, false),
            (10_000, 0, 20_200, 3_100, true), // shrinking while over a lowered budget
            (10_000, 0, 20_200, 20_200, true),
            (10_000, 0, 20_200, 20_300, false),
            (25_000, 0, 0, 25_000, true),
            (25_000, 1, 0, 25_000, false),
        ];
        for (budget, others, before, after, want) in cases {
            assert_eq!(
                admits(budget, others, before, after),
                want,
                "{budget} {others} {before} {after}"
            );
        }
    }
}
