//! Promotion (one step up, checked against the evidence) and demotion
//! (any step down, with a reason). Each runs in one transaction with its
//! audit rows.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{GovKind, GovernanceRequestView, NewRequest, insert, set_tier, visible_locked};
use crate::audit::{self, Event};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::governance::promotion::{self, Path, Refusal};
use crate::governance::{Classification, review};
use crate::registry::projects::fetch_tx;
use crate::registry::{Lifecycle, Project, Registry};

/// `POST /api/projects/{id}/promotion` and `request_promotion`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PromotionAsk {
    /// The tier asked for: exactly one step above the current one (the
    /// next tier when left out).
    #[serde(default)]
    pub target: Option<Classification>,
    /// Why, for the approver (at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/projects/{id}/demote`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DemotionAsk {
    /// Any tier below the current one.
    #[serde(default)]
    pub target: Option<Classification>,
    /// Required: why the project steps down (at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a promotion ask did: applied at once, or waiting for an admin.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PromotionAnswer {
    /// `applied` or `pending_approval`.
    pub outcome: &'static str,
    pub project_id: String,
    pub from: Classification,
    pub to: Classification,
    /// The project's tier now.
    pub classification: Classification,
    /// The approval request, while one decides it.
    pub request: Option<GovernanceRequestView>,
    pub next: &'static str,
}

/// How far a project the caller may see is from its next tier.
pub async fn status(
    reg: Registry<'_>,
    p: &Principal,
    id: &str,
) -> Result<promotion::PromotionStatus> {
    let pr = crate::registry::projects::get(reg, p, id).await?;
    Ok(promotion::status(
        &pr.id,
        pr.classification,
        pr.killed,
        &pr.evidence_map(),
        &reg.config.file.classification_requirements,
    ))
}

/// The caller-facing error for a refused promotion.
pub(super) fn refusal_error(id: &str, target: Classification, r: Refusal) -> Error {
    match r {
        Refusal::Frozen => Error::ProjectFrozen {
            message: format!("project {id} is frozen (killed): it cannot be promoted"),
        },
        Refusal::AtTop => Error::invalid_hint(
            "target",
            "the project is already at critical-path, the top tier",
            "nothing to promote to",
        ),
        Refusal::NotOneStep { next } => Error::invalid_hint(
            "target",
            format!(
                "a promotion is one step up: from here that is {}, not {}",
                next.as_str(),
                target.as_str()
            ),
            format!("send \"target\": \"{}\"", next.as_str()),
        ),
        Refusal::Missing(m) => Error::conflict(
            format!(
                "{} needs evidence the project lacks: {}",
                target.as_str(),
                m.join(", ")
            ),
            "fill in the missing evidence (update_project or PATCH /api/projects/{id}), then ask again; promotion_status lists it",
        ),
        Refusal::NoRiskAcceptance => Error::conflict(
            "critical-path needs a recorded risk acceptance",
            "record it as the risk_acceptance_url evidence field, then ask again",
        ),
    }
}

fn require_active(pr: &Project) -> Result<()> {
    if pr.lifecycle != Lifecycle::Active {
        return Err(Error::conflict(
            format!("project {} is {}", pr.id, pr.lifecycle),
            "decommissioned projects are read-only",
        ));
    }
    Ok(())
}

/// Ask to promote a project one tier up. A step to light-operational with
/// complete evidence and no exception signal applies at once; every other
/// step becomes an approval request. Its owner, manager, an admin, or the
/// project's own key may ask; nobody may skip a tier.
pub async fn request_promotion(
    reg: Registry<'_>,
    p: &Principal,
    id: &str,
    ask: PromotionAsk,
) -> Result<PromotionAnswer> {
    p.require_writer()?;
    let reason = crate::registry::validate::opt_text("reason", ask.reason.as_deref(), 500)?;
    let mut tx = reg.store.begin().await?;
    let pr = visible_locked(&mut tx, reg.store.engine(), p, id).await?;
    if !pr.writable_by(p) {
        pr.require_authority(p)?;
    }
    require_active(&pr)?;
    let from = pr.classification;
    let Some(target) = ask.target.or(from.next()) else {
        return Err(refusal_error(id, from, Refusal::AtTop));
    };
    let ev = pr.evidence_map();
    let overrides = &reg.config.file.classification_requirements;
    let path = promotion::plan(from, target, pr.killed, &ev, overrides)
        .map_err(|r| refusal_error(id, target, r))?;
    let now = tx.now();
    let answer = match path {
        Path::Apply => {
            let due = review::due_date(target, now, &ev, &reg.config.file.review);
            let due = set_tier(&mut tx, id, target, pr.review_date, due, now).await?;
            audit::record(
                &mut tx,
                Event::new(p, "project.promoted")
                    .project(id)
                    .target(id)
                    .reason(reason.as_deref())
                    .data(
                        json!({"from": from, "to": target, "review_date": due, "automatic": true}),
                    ),
            )
            .await?;
            PromotionAnswer {
                outcome: "applied",
                project_id: id.to_string(),
                from,
                to: target,
                classification: target,
                request: None,
                next: "done: the project is at its new tier",
            }
        }
        Path::Approval => {
            let req = insert(
                &mut tx,
                p,
                NewRequest {
                    kind: GovKind::Promotion,
                    project_id: id,
                    from_tier: Some(from),
                    to_tier: Some(target),
                    review_date_before: None,
                    reason: reason.as_deref(),
                },
            )
            .await?;
            audit::record(
                &mut tx,
                Event::new(p, "promotion.requested")
                    .project(id)
                    .target(&req.id)
                    .reason(reason.as_deref())
                    .data(json!({"from": from, "to": target})),
            )
            .await?;
            PromotionAnswer {
                outcome: "pending_approval",
                project_id: id.to_string(),
                from,
                to: target,
                classification: from,
                request: Some(req.view()),
                next: "an admin other than you decides it in the approvals inbox (GET /api/requests?state=pending_approval); the evidence is checked again then",
            }
        }
    };
    tx.commit().await?;
    Ok(answer)
}

/// Move a project down to `target` at once: its owner, manager or an admin,
/// with a reason. The review date starts over for the lower tier.
pub async fn demote(
    reg: Registry<'_>,
    p: &Principal,
    id: &str,
    ask: DemotionAsk,
) -> Result<Project> {
    p.require_writer()?;
    let reason =
        crate::registry::validate::text("reason", ask.reason.as_deref().unwrap_or(""), 500)?;
    let target = ask
        .target
        .ok_or_else(|| Error::invalid("target", "is required"))?;
    let mut tx = reg.store.begin().await?;
    let pr = visible_locked(&mut tx, reg.store.engine(), p, id).await?;
    pr.require_authority(p)?;
    require_active(&pr)?;
    let from = pr.classification;
    if target >= from {
        return Err(Error::invalid_hint(
            "target",
            format!("a demotion goes below the current tier {}", from.as_str()),
            "to move up, request a promotion",
        ));
    }
    let now = tx.now();
    let due = review::due_date(target, now, &pr.evidence_map(), &reg.config.file.review);
    let due = set_tier(&mut tx, id, target, pr.review_date, due, now).await?;
    // A promotion still waiting was asked from the old tier: it no longer
    // says what it would do, so it is closed rather than left to block the
    // next ask or be approved later.
    let closed: Vec<String> = on_tx!(&mut tx, |c| {
        sqlx::query_scalar::<_, String>(
            "UPDATE governance_requests SET state = 'rejected', decision_reason = 'superseded: the project was demoted', updated_at = $1, decided_at = $1
             WHERE project_id = $2 AND kind = 'promotion' AND state = 'pending_approval' RETURNING id",
        )
        .bind(now)
        .bind(id)
        .fetch_all(&mut *c)
        .await
    })?;
    audit::record(
        &mut tx,
        Event::new(p, "project.demoted")
            .project(id)
            .target(id)
            .reason(Some(&reason))
            .data(json!({"from": from, "to": target, "review_date": due, "superseded_requests": closed})),
    )
    .await?;
    let out = fetch_tx(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("project"))?;
    tx.commit().await?;
    Ok(out)
}
