//! Governance changes to a project: promotion and demotion (`promote`),
//! review extensions and the overdue sweep (`review`), and the decisions on
//! the approval requests both may raise (`decide`). Those requests live in
//! `governance_requests` (provisioning's are bound to a resource and live in
//! `requests`); the one approvals inbox lists both.

mod decide;
mod promote;
mod review;

pub use decide::decide;
pub use promote::{DemotionAsk, PromotionAnswer, PromotionAsk, demote, request_promotion, status};
pub use review::{ExtensionAnswer, ExtensionAsk, extend, sweep};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::governance::Classification;
use crate::registry::{PROJECT_COLS, Project};
use crate::store::{Engine, Tx};

crate::text_enum! {
    /// What a governance request asks for.
    pub enum GovKind {
        Promotion = "promotion",
        ReviewExtension = "review_extension",
    }
}

crate::text_enum! {
    /// Where a governance request stands.
    pub enum GovState {
        PendingApproval = "pending_approval",
        Approved = "approved",
        Rejected = "rejected",
    }
}

/// The id prefix of governance requests; the decision routes dispatch on it.
pub const ID_PREFIX: &str = "gov-";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GovRequest {
    pub id: String,
    pub kind: GovKind,
    pub project_id: String,
    pub from_tier: Option<Classification>,
    pub to_tier: Option<Classification>,
    pub review_date_before: Option<DateTime<Utc>>,
    pub review_date_after: Option<DateTime<Utc>>,
    pub requested_by: String,
    pub requested_by_user_id: Option<String>,
    pub request_reason: Option<String>,
    pub state: GovState,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

pub const GOV_COLS: &str = "id, kind, project_id, from_tier, to_tier, review_date_before, review_date_after, requested_by, requested_by_user_id, request_reason, state, decided_by, decision_reason, created_at, updated_at, decided_at";

/// A governance request as callers see it. `request_id` starts `gov-`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GovernanceRequestView {
    pub request_id: String,
    pub kind: GovKind,
    pub project_id: String,
    pub state: GovState,
    /// For a promotion: the tier it leaves and the one it asks for.
    pub from_tier: Option<Classification>,
    pub to_tier: Option<Classification>,
    /// For an extension: the review date when asked, and the one its
    /// approval set.
    #[schemars(with = "Option<String>")]
    pub review_date_before: Option<DateTime<Utc>>,
    #[schemars(with = "Option<String>")]
    pub review_date_after: Option<DateTime<Utc>>,
    pub requested_by: String,
    /// Why the requester asked.
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decision_reason: Option<String>,
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
    #[schemars(with = "String")]
    pub updated_at: DateTime<Utc>,
    #[schemars(with = "Option<String>")]
    pub decided_at: Option<DateTime<Utc>>,
    /// What happens next.
    pub next: &'static str,
}

impl GovRequest {
    pub fn view(&self) -> GovernanceRequestView {
        let next = match self.state {
            GovState::PendingApproval => {
                "an admin other than the requester approves or rejects it: POST /api/requests/{id}/approve or /reject"
            }
            GovState::Approved => "applied: nothing to do",
            GovState::Rejected => "rejected: fix what the decision reason says, then ask again",
        };
        GovernanceRequestView {
            request_id: self.id.clone(),
            kind: self.kind,
            project_id: self.project_id.clone(),
            state: self.state,
            from_tier: self.from_tier,
            to_tier: self.to_tier,
            review_date_before: self.review_date_before,
            review_date_after: self.review_date_after,
            requested_by: self.requested_by.clone(),
            reason: self.request_reason.clone(),
            decided_by: self.decided_by.clone(),
            decision_reason: self.decision_reason.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            decided_at: self.decided_at,
            next,
        }
    }
}

pub async fn fetch_tx(tx: &mut Tx, id: &str) -> Result<GovRequest> {
    let sql = format!("SELECT {GOV_COLS} FROM governance_requests WHERE id = $1");
    on_tx!(tx, |c| sqlx::query_as::<_, GovRequest>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?
    .ok_or_else(|| Error::not_found(format!("request {id}")))
}

/// The project's row, locked on Postgres until the commit (SQLite has one
/// writer already), so two changes of one project's tier or review date
/// take turns.
pub(crate) async fn locked_project(
    tx: &mut Tx,
    engine: Engine,
    id: &str,
) -> Result<Option<Project>> {
    let lock = if engine == Engine::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1{lock}");
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Project>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// The project `id` as `p` may see it, locked for this change (see
/// `locked_project`); one the caller cannot see is not found.
pub(crate) async fn visible_locked(
    tx: &mut Tx,
    engine: Engine,
    p: &Principal,
    id: &str,
) -> Result<Project> {
    locked_project(tx, engine, id)
        .await?
        .filter(|pr| pr.visible_to(p))
        .ok_or_else(|| Error::not_found(format!("project {id}")))
}

/// What a new governance request records.
pub(super) struct NewRequest<'a> {
    pub kind: GovKind,
    pub project_id: &'a str,
    pub from_tier: Option<Classification>,
    pub to_tier: Option<Classification>,
    pub review_date_before: Option<DateTime<Utc>>,
    pub reason: Option<&'a str>,
}

/// Insert a pending request by `p`. A project has at most one pending
/// request of each kind: a second ask is a conflict naming the first.
pub(super) async fn insert(tx: &mut Tx, p: &Principal, n: NewRequest<'_>) -> Result<GovRequest> {
    let pending: Option<String> = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "SELECT id FROM governance_requests WHERE project_id = $1 AND kind = $2 AND state = 'pending_approval'"
    )
    .bind(n.project_id)
    .bind(n.kind)
    .fetch_optional(&mut *c)
    .await
    })?;
    if let Some(id) = pending {
        return Err(Error::conflict(
            format!(
                "project {} already has a {} request waiting: {id}",
                n.project_id, n.kind
            ),
            format!("wait for an admin to decide {id} (GET /api/requests/{id})"),
        ));
    }
    let id = format!("{ID_PREFIX}{}", uuid::Uuid::new_v4().simple());
    let now = tx.now();
    let actor = p.actor();
    let user_id = p.user().map(|u| u.id.as_str());
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO governance_requests (id, kind, project_id, from_tier, to_tier, review_date_before, requested_by,
           requested_by_user_id, request_reason, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending_approval', $10, $10)"
    )
    .bind(&id)
    .bind(n.kind)
    .bind(n.project_id)
    .bind(n.from_tier)
    .bind(n.to_tier)
    .bind(n.review_date_before)
    .bind(&actor)
    .bind(user_id)
    .bind(n.reason)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    fetch_tx(tx, &id).await
}

/// Set a project's tier and review date inside the caller's transaction.
/// A date ahead clears an overdue mark; a date already past is left for the
/// sweep to mark, so each transition is audited once, by the sweep.
pub(super) async fn set_tier(
    tx: &mut Tx,
    id: &str,
    tier: Classification,
    current_review: Option<DateTime<Utc>>,
    review_date: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>> {
    // A tier change brings a review forward, never back, and leaves an
    // overdue mark for a review or an extension to clear.
    let review_date = crate::governance::review::recomputed(current_review, review_date);
    on_tx!(tx, |c| {
        sqlx::query(
            "UPDATE projects SET classification = $1, review_date = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(tier)
        .bind(review_date)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(review_date)
}

/// Governance requests for the approvals inbox: the same filters and page
/// position as provisioning's list (`created_at`, then id, newest first).
pub async fn list(
    store: &crate::store::Store,
    project: Option<&str>,
    state: Option<&str>,
    after: Option<(DateTime<Utc>, String)>,
    limit: i64,
) -> Result<Vec<GovRequest>> {
    let sql = format!(
        "SELECT {GOV_COLS} FROM governance_requests WHERE ($1 IS NULL OR project_id = $1) AND ($2 IS NULL OR state = $2)
           AND ($3 IS NULL OR created_at < $3 OR (created_at = $3 AND id < $4))
         ORDER BY created_at DESC, id DESC LIMIT $5"
    );
    let (at, id) = after.unzip();
    Ok(on_pool!(store.read(), |pool| {
        sqlx::query_as::<_, GovRequest>(&sql)
            .bind(project)
            .bind(state)
            .bind(at)
            .bind(&id)
            .bind(limit)
            .fetch_all(pool)
            .await
    })?)
}

/// A governance request on a project the caller may see, or `not_found`.
pub async fn get(
    reg: crate::registry::Registry<'_>,
    p: &Principal,
    id: &str,
) -> Result<GovernanceRequestView> {
    let sql = format!("SELECT {GOV_COLS} FROM governance_requests WHERE id = $1");
    let row: Option<GovRequest> = on_pool!(reg.store.read(), |pool| {
        sqlx::query_as::<_, GovRequest>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    let row = row.ok_or_else(|| Error::not_found(format!("request {id}")))?;
    crate::registry::projects::get(reg, p, &row.project_id)
        .await
        .map_err(|_| Error::not_found(format!("request {id}")))?;
    Ok(row.view())
}

/// Whether `id` names a governance request (the decision routes dispatch
/// on it).
pub fn is_governance_id(id: &str) -> bool {
    id.starts_with(ID_PREFIX)
}
