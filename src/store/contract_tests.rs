//! The store contract, run on both engines (Postgres from
//! `ASGARD_TEST_PG_URL`; under `CI` its absence is a failure): leases and
//! fencing on a fake clock, and time values that round-trip and order the
//! same way. Whatever the engine, callers get one behaviour.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Store;
use super::test_support::fresh_store;
use crate::clock::Clock;

const TTL: Duration = Duration::from_secs(30);

async fn store(postgres: bool) -> Option<(Store, Clock, Box<dyn FnOnce() + Send>)> {
    let (store, cleanup) = fresh_store(postgres).await?;
    let clock = Clock::fake(Utc::now());
    Some((store.with_clock(clock.clone()), clock, cleanup))
}

async fn leases(postgres: bool) {
    let Some((s, clock, cleanup)) = store(postgres).await else {
        return;
    };
    let a = s
        .try_lease("loop:x", "a", TTL)
        .await
        .unwrap()
        .expect("a free lease is acquired");
    // Held: nobody takes it, not even its holder (that would be a new run).
    assert_eq!(s.try_lease("loop:x", "b", TTL).await.unwrap(), None);
    assert_eq!(s.try_lease("loop:x", "a", TTL).await.unwrap(), None);
    // Renewal keeps the token and the lease alive past its first expiry.
    clock.advance(TTL / 2);
    assert!(s.renew_lease(&a, TTL).await.unwrap());
    clock.advance(TTL * 3 / 4);
    assert!(s.lease_valid(&a).await.unwrap(), "renewed, so still valid");
    assert_eq!(s.try_lease("loop:x", "b", TTL).await.unwrap(), None);
    // Expired: the holder cannot renew it, and anyone may acquire it.
    clock.advance(TTL);
    assert!(!s.lease_valid(&a).await.unwrap());
    assert!(!s.renew_lease(&a, TTL).await.unwrap());
    let b = s
        .try_lease("loop:x", "b", TTL)
        .await
        .unwrap()
        .expect("expired, so free");
    assert!(b.token > a.token, "a takeover gets a new token");
    // Released: free at once, and the next token is higher still.
    s.release_lease(&b).await.unwrap();
    assert!(!s.lease_valid(&b).await.unwrap());
    let b2 = s
        .try_lease("loop:x", "b", TTL)
        .await
        .unwrap()
        .expect("released, so free");
    assert!(
        b2.token > b.token,
        "re-acquired after a release: a new token"
    );
    // A release with a stale token changes nothing.
    s.release_lease(&b).await.unwrap();
    assert!(s.lease_valid(&b2).await.unwrap());
    // Names are independent.
    assert!(s.try_lease("loop:y", "a", TTL).await.unwrap().is_some());
    cleanup();
}

/// A holder paused past its lease that acquires it again gets a new token,
/// so its stale run (the old token) is fenced off from every write.
async fn fencing(postgres: bool) {
    let Some((s, clock, cleanup)) = store(postgres).await else {
        return;
    };
    let old = s
        .try_lease("resource:r1", "replica-a", TTL)
        .await
        .unwrap()
        .unwrap();
    clock.advance(TTL * 2);
    let new = s
        .try_lease("resource:r1", "replica-a", TTL)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(old.token, new.token);
    assert!(
        !s.lease_valid(&old).await.unwrap(),
        "the stale run is fenced"
    );
    assert!(!s.renew_lease(&old, TTL).await.unwrap());
    assert!(s.lease_valid(&new).await.unwrap());
    // The stale run's release does not free the new run's lease.
    s.release_lease(&old).await.unwrap();
    assert!(s.lease_valid(&new).await.unwrap());
    assert_eq!(
        s.try_lease("resource:r1", "replica-b", TTL).await.unwrap(),
        None
    );
    cleanup();
}

/// Timestamps written through sqlx read back equal and sort in time order,
/// also within one second and across a day boundary.
async fn time_order(postgres: bool) {
    let Some((s, _, cleanup)) = store(postgres).await else {
        return;
    };
    let base: DateTime<Utc> = "2026-12-31T23:59:59.998Z".parse().unwrap();
    let times: Vec<DateTime<Utc>> = [0i64, 1, 2, 1_000, 86_400_000]
        .iter()
        .map(|ms| base + chrono::Duration::milliseconds(*ms))
        .collect();
    for (i, t) in times.iter().enumerate().rev() {
        on_pool!(s.write(), |p| sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2)"
        )
        .bind(format!("t{i}"))
        .bind(t.to_rfc3339())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .unwrap();
        on_pool!(s.write(), |p| sqlx::query(
            "INSERT INTO leases (name, holder, token, expires_at) VALUES ($1, 'h', 1, $2)"
        )
        .bind(format!("t{i}"))
        .bind(*t)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .unwrap();
    }
    let got: Vec<(String, DateTime<Utc>)> = on_pool!(s.read(), |p| sqlx::query_as(
        "SELECT name, expires_at FROM leases WHERE name LIKE 't%' ORDER BY expires_at"
    )
    .fetch_all(p)
    .await)
    .unwrap();
    let want: Vec<(String, DateTime<Utc>)> = times
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("t{i}"), *t))
        .collect();
    assert_eq!(got, want);
    // A comparison against a bound time cuts at the same place.
    let later: i64 = on_pool!(s.read(), |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM leases WHERE name LIKE 't%' AND expires_at > $1"
    )
    .bind(times[1])
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(later, 3);
    cleanup();
}

macro_rules! both {
    ($($name:ident),*) => { $(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(false).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(true).await
            }
        }
    )* };
}

both!(leases, fencing, time_order);
