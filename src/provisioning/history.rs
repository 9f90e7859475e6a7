//! What a resource's request history says about the cloud side: whether a
//! run may have created something since the last successful destroy, and
//! which request last applied successfully (its spec is what exists). The
//! resource's `state` alone cannot answer either: a create that failed
//! half-way may have left objects behind, and a rejected create none.

use super::{REQUEST_COLS, Request, RequestKind, RequestState};
use crate::error::Result;
use crate::store::{Store, Tx};

#[derive(Debug, Default)]
pub struct History {
    /// A create/update/suspend/resume run started (and so may have created
    /// cloud objects) since the last successful destroy.
    pub ever_ran: bool,
    /// The last successful create or update since the last successful
    /// destroy: its spec is what the cloud runs (suspend and resume re-apply
    /// it, so they never count as applies of their own).
    pub last_applied: Option<Request>,
    /// The last create or update that started a run since the last
    /// successful destroy: what a destroy works from when nothing applied.
    pub last_started: Option<Request>,
    /// The newest request of any kind and state.
    pub latest: Option<Request>,
    /// A create or update that needed a person has run since the last
    /// successful destroy: what exists was let through by someone, so
    /// changing or destroying it needs someone too.
    pub gated: bool,
}

pub fn summarise(requests: Vec<Request>) -> History {
    let mut h = History::default();
    for r in requests {
        if r.kind == RequestKind::Destroy {
            if r.state == RequestState::Fulfilled {
                h = History::default();
            }
            h.latest = Some(r);
            continue;
        }
        h.latest = Some(r.clone());
        let started = r.started_at.is_some() || r.state == RequestState::Running;
        if started {
            h.ever_ran = true;
            // What a person let through, created or changed, stays theirs.
            if matches!(r.kind, RequestKind::Create | RequestKind::Update) && r.needs_approval {
                h.gated = true;
            }
        }
        if !r.kind.applies_spec() {
            continue;
        }
        if started {
            h.last_started = Some(r.clone());
        }
        if r.state == RequestState::Fulfilled {
            h.last_applied = Some(r);
        }
    }
    h
}

/// The history through the reader path (no transaction, no cache flush).
pub async fn read(store: &Store, resource_id: &str) -> Result<History> {
    let sql = format!(
        "SELECT {REQUEST_COLS} FROM requests WHERE resource_id = $1 ORDER BY created_at, id"
    );
    let rows: Vec<Request> = on_pool!(store.read(), |p| sqlx::query_as::<_, Request>(&sql)
        .bind(resource_id)
        .fetch_all(p)
        .await)?;
    Ok(summarise(rows))
}

pub async fn of(tx: &mut Tx, resource_id: &str) -> Result<History> {
    Ok(summarise(rows(tx, resource_id).await?))
}

/// Every request of the resource, oldest first.
pub async fn rows(tx: &mut Tx, resource_id: &str) -> Result<Vec<Request>> {
    let sql = format!(
        "SELECT {REQUEST_COLS} FROM requests WHERE resource_id = $1 ORDER BY created_at, id"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as::<_, Request>(&sql)
        .bind(resource_id)
        .fetch_all(&mut *c)
        .await)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn req(kind: &str, state: &str, started: bool) -> Request {
        Request {
            id: format!("req-{kind}-{state}"),
            resource_id: "r".into(),
            project_id: "p".into(),
            kind: kind.parse().unwrap(),
            spec: "{}".into(),
            state: state.parse().unwrap(),
            needs_approval: false,
            requested_by: "x".into(),
            requested_by_user_id: None,
            decided_by: None,
            decision_reason: None,
            error: None,
            attempts: 0,
            claimed_by: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            started_at: started.then(Utc::now),
            finished_at: None,
            approval_reason: None,
        }
    }

    #[test]
    fn suspend_and_resume_are_not_applies() {
        let mut create = req("create", "fulfilled", true);
        create.spec = r#"{"v":2}"#.into();
        let mut suspend = req("suspend", "fulfilled", true);
        suspend.spec = r#"{"v":1}"#.into();
        let h = summarise(vec![create, suspend, req("resume", "failed", true)]);
        assert_eq!(h.last_applied.unwrap().spec, r#"{"v":2}"#);
        let h = summarise(vec![req("create", "failed", true)]);
        assert!(h.last_applied.is_none());
        assert_eq!(h.last_started.unwrap().kind, RequestKind::Create);
    }

    #[test]
    fn a_pending_or_rejected_update_does_not_hide_what_exists() {
        let h = summarise(vec![
            req("create", "fulfilled", true),
            req("update", "rejected", false),
        ]);
        assert!(h.ever_ran);
        assert_eq!(h.last_applied.unwrap().kind, RequestKind::Create);
        let h = summarise(vec![req("create", "pending_approval", false)]);
        assert!(!h.ever_ran && h.last_applied.is_none());
        // A failed create may have left objects behind.
        assert!(summarise(vec![req("create", "failed", true)]).ever_ran);
        let h = summarise(vec![
            req("create", "fulfilled", true),
            req("destroy", "fulfilled", true),
            req("create", "pending_approval", false),
        ]);
        assert!(!h.ever_ran && h.last_applied.is_none());
    }

    #[test]
    fn gated_by_a_create_that_needed_a_person_and_ran() {
        let approved = |state, started| {
            let mut r = req("create", state, started);
            r.needs_approval = true;
            r
        };
        // (what, history, gated)
        let rows: Vec<(&str, Vec<Request>, bool)> = vec![
            (
                "approved and applied",
                vec![approved("fulfilled", true)],
                true,
            ),
            (
                "approved and failed half-way",
                vec![approved("failed", true)],
                true,
            ),
            (
                "still waiting: nothing exists",
                vec![approved("pending_approval", false)],
                false,
            ),
            (
                "auto-approved",
                vec![req("create", "fulfilled", true)],
                false,
            ),
            (
                "destroyed since",
                vec![
                    approved("fulfilled", true),
                    req("destroy", "fulfilled", true),
                ],
                false,
            ),
            (
                "a later destroy that failed keeps it",
                vec![approved("fulfilled", true), req("destroy", "failed", true)],
                true,
            ),
        ];
        for (what, rows, want) in rows {
            assert_eq!(summarise(rows).gated, want, "{what}");
        }
    }
}
