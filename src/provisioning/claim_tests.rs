//! The worker claim as part of the store contract, on SQLite and Postgres
//! (Postgres from `ASGARD_TEST_PG_URL`; under `CI` its absence is a failure)
//! with a fake clock: a claim is a resource lease plus a compare-and-set on
//! the request's state, so of two claimers exactly one wins; a claim whose
//! lease is still fresh is nobody else's to take, and one whose lease expired
//! is re-queued by the reconciler and claimed again under a new token.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::worker::claim_next;
use super::{RequestState, query};
use crate::background::reconcile_runs::requeue_stale;
use crate::clock::Clock;
use crate::store::Store;
use crate::store::test_support::fresh_store;

const TTL: Duration = Duration::from_secs(30);

async fn exec(s: &Store, sql: &str, args: &[&str], at: DateTime<Utc>) {
    on_pool!(s.write(), |p| {
        let mut q = sqlx::query(sql);
        for a in args {
            q = q.bind(*a);
        }
        q.bind(at).execute(p).await.map(|r| r.rows_affected())
    })
    .unwrap();
}

/// A store on a fake clock with one project, the resources `resources` and
/// one queued create request per resource, created in that order at one
/// instant (so the claim order rests on the id tie-break).
async fn seeded(
    postgres: bool,
    resources: &[&str],
) -> Option<(Store, Clock, Box<dyn FnOnce() + Send>)> {
    let (store, cleanup) = fresh_store(postgres).await?;
    let clock = Clock::fake(Utc::now());
    let s = store.with_clock(clock.clone());
    let at = clock.now();
    exec(
        &s,
        "INSERT INTO projects (id, name, owner_email, manager_email, classification, data_class, created_by, created_at, updated_at)
         VALUES ('proj-1', 'P', 'o@x.example', 'm@x.example', 'poc', 'internal', 'test', $1, $1)",
        &[],
        at,
    )
    .await;
    for r in resources {
        exec(
            &s,
            "INSERT INTO resources (id, project_id, service, name, spec, state, armed, cloud, created_by, created_at, updated_at)
             VALUES ($1, 'proj-1', 'demo-token', $1, '{}', 'pending', TRUE, 'none', 'test', $2, $2)",
            &[r],
            at,
        )
        .await;
        exec(
            &s,
            "INSERT INTO requests (id, resource_id, project_id, kind, spec, state, needs_approval, requested_by, created_at, updated_at)
             VALUES ($1, $2, 'proj-1', 'create', '{}', 'queued', FALSE, 'test', $3, $3)",
            &[&format!("req-{r}"), r],
            at,
        )
        .await;
    }
    Some((s, clock, cleanup))
}

async fn state_of(s: &Store, id: &str) -> (RequestState, i64, Option<String>) {
    let mut tx = s.begin().await.unwrap();
    let r = query::request_tx(&mut tx, id).await.unwrap();
    tx.commit().await.unwrap();
    (r.state, r.attempts, r.claimed_by)
}

/// Two replicas claim at once: one wins, the other gets nothing (there is
/// one request), and the row says who won.
async fn one_of_two_claimers_wins(postgres: bool) {
    let Some((s, _, cleanup)) = seeded(postgres, &["r1"]).await else {
        return;
    };
    let (a, b) = tokio::join!(claim_next(&s, "a", TTL), claim_next(&s, "b", TTL));
    let (a, b) = (a.unwrap(), b.unwrap());
    let winner = match (&a, &b) {
        (Some(_), None) => "a",
        (None, Some(_)) => "b",
        _ => panic!("exactly one claimer must win: a={a:?} b={b:?}"),
    };
    let (req, lease) = a.or(b).unwrap();
    assert_eq!(req.id, "req-r1");
    assert_eq!(lease.name, "resource:r1");
    assert_eq!(
        state_of(&s, "req-r1").await,
        (RequestState::Running, 1, Some(winner.to_string()))
    );
    // Nobody claims it again while it runs.
    assert!(claim_next(&s, "c", TTL).await.unwrap().is_none());
    cleanup();
}

/// A fresh claim stays with its holder; an expired one goes back to the
/// queue and is claimed again under a new token, fencing the old holder.
async fn expired_claims_are_reclaimed(postgres: bool) {
    let Some((s, clock, cleanup)) = seeded(postgres, &["r1"]).await else {
        return;
    };
    let (_, old) = claim_next(&s, "a", TTL).await.unwrap().unwrap();
    // Fresh: the reconciler leaves it running and nobody else claims it.
    clock.advance(TTL - Duration::from_secs(1));
    assert_eq!(requeue_stale(&s).await.unwrap(), 0);
    assert!(claim_next(&s, "b", TTL).await.unwrap().is_none());
    assert_eq!(state_of(&s, "req-r1").await.0, RequestState::Running);
    // Expired: re-queued (attempts kept), then claimed by another replica.
    clock.advance(Duration::from_secs(2));
    assert_eq!(requeue_stale(&s).await.unwrap(), 1);
    assert_eq!(
        state_of(&s, "req-r1").await,
        (RequestState::Queued, 1, None)
    );
    let (req, new) = claim_next(&s, "b", TTL).await.unwrap().unwrap();
    assert_eq!(req.id, "req-r1");
    assert_eq!(req.attempts, 2);
    assert!(new.token > old.token, "a re-claim gets a new fencing token");
    assert!(!s.lease_valid(&old).await.unwrap(), "the old run is fenced");
    assert!(!s.renew_lease(&old, TTL).await.unwrap());
    assert!(s.lease_valid(&new).await.unwrap());
    cleanup();
}

/// A resource lease held without a running request (a replica that took
/// the lease and stopped before its compare-and-set) blocks the claim until
/// it expires; the other resource's request is claimed meanwhile.
async fn a_held_lease_blocks_until_it_expires(postgres: bool) {
    let Some((s, clock, cleanup)) = seeded(postgres, &["r1", "r2"]).await else {
        return;
    };
    let held = s
        .try_lease("resource:r1", "dead", TTL)
        .await
        .unwrap()
        .unwrap();
    let (req, _) = claim_next(&s, "a", TTL).await.unwrap().unwrap();
    assert_eq!(req.id, "req-r2", "r1 is leased, so r2 goes first");
    assert!(claim_next(&s, "a", TTL).await.unwrap().is_none());
    clock.advance(TTL + Duration::from_secs(1));
    let (req, lease) = claim_next(&s, "b", TTL).await.unwrap().unwrap();
    assert_eq!(req.id, "req-r1");
    assert!(lease.token > held.token);
    cleanup();
}

/// Requests queued at one instant are claimed in id order on both engines.
async fn claims_follow_queue_order(postgres: bool) {
    let Some((s, _, cleanup)) = seeded(postgres, &["r3", "r1", "r2"]).await else {
        return;
    };
    let mut got = Vec::new();
    while let Some((req, _)) = claim_next(&s, "a", TTL).await.unwrap() {
        got.push(req.id);
    }
    assert_eq!(got, ["req-r1", "req-r2", "req-r3"]);
    cleanup();
}

/// After three lost runs the reconciler gives up: the request fails and
/// is not claimed again.
async fn three_lost_runs_fail_the_request(postgres: bool) {
    let Some((s, clock, cleanup)) = seeded(postgres, &["r1"]).await else {
        return;
    };
    for attempt in 1..=3 {
        let (req, _) = claim_next(&s, "a", TTL).await.unwrap().unwrap();
        assert_eq!(req.attempts, attempt);
        clock.advance(TTL * 2);
        assert_eq!(requeue_stale(&s).await.unwrap(), 1);
    }
    assert_eq!(state_of(&s, "req-r1").await.0, RequestState::Failed);
    assert!(claim_next(&s, "a", TTL).await.unwrap().is_none());
    cleanup();
}

macro_rules! both {
    ($($name:ident),*) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(false).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(true).await
            }
        }
    )* };
}

both!(
    one_of_two_claimers_wins,
    expired_claims_are_reclaimed,
    a_held_lease_blocks_until_it_expires,
    claims_follow_queue_order,
    three_lost_runs_fail_the_request
);
