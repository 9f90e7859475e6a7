//! Review extensions and the overdue sweep. An extension moves the review
//! date a window of the project's tier past the later of now and the
//! current date: at once for the first `review.auto_extensions`, then
//! through an approval request whose approval moves it (`decide`).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{GovKind, GovernanceRequestView, NewRequest, insert, visible_locked};
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::governance::review::{self, Extension};
use crate::registry::{Lifecycle, Project, Registry};
use crate::store::{Store, Tx};

/// `POST /api/projects/{id}/extend`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionAsk {
    /// Why the review should wait (at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What an extension ask did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExtensionAnswer {
    /// `applied` or `pending_approval`.
    pub outcome: &'static str,
    pub project_id: String,
    /// The project's review date now.
    #[schemars(with = "Option<String>")]
    pub review_date: Option<DateTime<Utc>>,
    pub extensions_used: i64,
    /// The approval request, when the automatic extensions are used up.
    pub request: Option<GovernanceRequestView>,
    pub next: &'static str,
}

/// Move the project's review date by one extension, inside the caller's
/// transaction: the date, the count, the overdue mark cleared, audited.
/// Answers the new date.
pub(super) async fn apply_extension(
    tx: &mut Tx,
    reg: Registry<'_>,
    actor: &Principal,
    pr: &Project,
    automatic: bool,
    reason: Option<&str>,
) -> Result<DateTime<Utc>> {
    let now = tx.now();
    let to = review::extended(
        pr.classification,
        now,
        pr.review_date,
        &reg.config.file.review,
    );
    on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE projects SET review_date = $1, review_state = 'ok', extensions_used = extensions_used + 1, updated_at = $2 WHERE id = $3"
    )
    .bind(to)
    .bind(now)
    .bind(&pr.id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected())
    })?;
    audit::record(
        tx,
        Event::new(actor, "project.review_extended")
            .project(&pr.id)
            .target(&pr.id)
            .reason(reason)
            .data(json!({"from": pr.review_date, "to": to, "automatic": automatic})),
    )
    .await?;
    Ok(to)
}

/// Ask for a later review date: the project's owner, manager or an admin.
pub async fn extend(
    reg: Registry<'_>,
    p: &Principal,
    id: &str,
    ask: ExtensionAsk,
) -> Result<ExtensionAnswer> {
    p.require_writer()?;
    let reason = crate::registry::validate::opt_text("reason", ask.reason.as_deref(), 500)?;
    let mut tx = reg.store.begin().await?;
    let pr = visible_locked(&mut tx, reg.store.engine(), p, id).await?;
    pr.require_authority(p)?;
    if pr.lifecycle != Lifecycle::Active {
        return Err(Error::conflict(
            format!("project {id} is {}", pr.lifecycle),
            "decommissioned projects have no reviews",
        ));
    }
    let answer = match review::extension(pr.extensions_used, reg.config.file.review.auto_extensions)
    {
        Extension::Automatic => {
            let to = apply_extension(&mut tx, reg, p, &pr, true, reason.as_deref()).await?;
            ExtensionAnswer {
                outcome: "applied",
                project_id: pr.id.clone(),
                review_date: Some(to),
                extensions_used: pr.extensions_used + 1,
                request: None,
                next: "done: the review date moved",
            }
        }
        Extension::NeedsApproval => {
            let req = insert(
                &mut tx,
                p,
                NewRequest {
                    kind: GovKind::ReviewExtension,
                    project_id: id,
                    from_tier: None,
                    to_tier: None,
                    review_date_before: pr.review_date,
                    reason: reason.as_deref(),
                },
            )
            .await?;
            audit::record(
                &mut tx,
                Event::new(p, "review_extension.requested")
                    .project(id)
                    .target(&req.id)
                    .reason(reason.as_deref())
                    .data(json!({"review_date": pr.review_date, "extensions_used": pr.extensions_used})),
            )
            .await?;
            ExtensionAnswer {
                outcome: "pending_approval",
                project_id: pr.id.clone(),
                review_date: pr.review_date,
                extensions_used: pr.extensions_used,
                request: Some(req.view()),
                next: "the automatic extensions are used up: an admin other than you decides it in the approvals inbox (GET /api/requests?state=pending_approval)",
            }
        }
    };
    tx.commit().await?;
    Ok(answer)
}

/// One pass of the review sweep: mark active projects whose review date has
/// passed `overdue`, and clear the mark of those whose date moved ahead by
/// other means. Each change is a compare-and-set audited once, so a second
/// pass (or a second replica) changes and audits nothing. Answers how many
/// projects changed.
pub async fn sweep(store: &Store) -> Result<usize> {
    let now = store.clock().now();
    let due: Vec<(String, String)> = on_pool!(store.read(), |p| {
        sqlx::query_as(
        "SELECT id, review_state FROM projects WHERE lifecycle = 'active' AND review_date IS NOT NULL
           AND ((review_date < $1 AND review_state <> 'overdue') OR (review_date >= $1 AND review_state = 'overdue'))"
    )
    .bind(now)
    .fetch_all(p)
    .await
    })?;
    let mut changed = 0;
    for (id, state) in due {
        let overdue = state != "overdue";
        let (to, action, cond) = if overdue {
            (
                "overdue",
                "project.review_overdue",
                "review_date < $2 AND review_state <> 'overdue'",
            )
        } else {
            (
                "ok",
                "project.review_current",
                "review_date >= $2 AND review_state = 'overdue'",
            )
        };
        let mut tx = store.begin().await?;
        let sql = format!(
            "UPDATE projects SET review_state = $1, updated_at = $2 WHERE id = $3 AND lifecycle = 'active' AND {cond}"
        );
        let n = on_tx!(&mut tx, |c| sqlx::query(&sql)
            .bind(to)
            .bind(now)
            .bind(&id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))?;
        if n == 1 {
            audit::record(
                &mut tx,
                Event::system("system:review-sweep", action)
                    .project(&id)
                    .target(&id),
            )
            .await?;
            changed += 1;
        }
        tx.commit().await?;
    }
    Ok(changed)
}
