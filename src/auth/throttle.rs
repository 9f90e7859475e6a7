//! Login throttle: after 5 failures for one (client IP, username) within 15
//! minutes, that pair is refused for 5 minutes. In memory, bounded: at most
//! `CAP` pairs are tracked; when full, expired idle entries are dropped
//! first, then the oldest idle one.
//!
//! A guess takes a slot (`reserve`) before its password is verified, and
//! the check and the taking happen under one lock: failures plus guesses in
//! flight never exceed `MAX_FAILURES`, so parallel guesses cannot all slip
//! through a check that ran before any of them failed. A slot is settled by
//! `fail` or `succeed`; dropped unsettled (the request was cancelled or the
//! lookup failed before the verify answered) it is simply given back, as no
//! answer about the password reached the caller.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const LOCKOUT: Duration = Duration::from_secs(5 * 60);
/// `Retry-After` while the budget is held by guesses still being verified:
/// their outcome (a lockout or a success) is known well within this.
const PENDING_RETRY: Duration = Duration::from_secs(1);
const CAP: usize = 10_000;

type Key = (IpAddr, String);

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Tells a slot's own entry from a later one under the same key (after
    /// eviction), so a late settle never touches a stranger's counts.
    id: u64,
    first: Instant,
    failures: u32,
    in_flight: u32,
    locked_until: Option<Instant>,
}

impl Entry {
    fn idle(&self) -> bool {
        self.in_flight == 0
    }
}

#[derive(Default)]
struct Inner {
    map: HashMap<Key, Entry>,
    next_id: u64,
}

#[derive(Default, Clone)]
pub struct Throttle {
    inner: Arc<Mutex<Inner>>,
}

/// One reserved guess; see the module comment.
#[must_use = "settle the slot with fail() or succeed()"]
pub struct Slot {
    inner: Arc<Mutex<Inner>>,
    key: Key,
    id: u64,
    settled: bool,
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Throttle {
    /// Take a slot for one guess, or `Err(retry_after)` when the pair is
    /// locked out or its remaining budget is held by guesses in flight.
    pub fn reserve(&self, ip: IpAddr, user: &str) -> Result<Slot, Duration> {
        let now = Instant::now();
        let key = (ip, user.to_lowercase());
        let mut inner = lock(&self.inner);
        if !inner.map.contains_key(&key) && inner.map.len() >= CAP {
            make_room(&mut inner.map, now);
        }
        inner.next_id += 1;
        let fresh_id = inner.next_id;
        let e = inner.map.entry(key.clone()).or_insert(Entry {
            id: fresh_id,
            first: now,
            failures: 0,
            in_flight: 0,
            locked_until: None,
        });
        if let Some(until) = e.locked_until {
            if until > now {
                return Err(until - now);
            }
            e.locked_until = None;
            e.failures = 0;
            e.first = now;
        }
        if now.duration_since(e.first) > WINDOW {
            e.failures = 0;
            e.first = now;
        }
        if e.failures + e.in_flight >= MAX_FAILURES {
            return Err(PENDING_RETRY);
        }
        e.in_flight += 1;
        Ok(Slot {
            inner: self.inner.clone(),
            key,
            id: e.id,
            settled: false,
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.inner).map.len()
    }
}

/// Drop expired idle entries, then (still full) the oldest idle one. An
/// entry with a guess in flight stays: its slot still has to settle.
fn make_room(map: &mut HashMap<Key, Entry>, now: Instant) {
    map.retain(|_, e| {
        !e.idle() || now.duration_since(e.first) < WINDOW || e.locked_until.is_some_and(|u| u > now)
    });
    if map.len() >= CAP
        && let Some(oldest) = map
            .iter()
            .filter(|(_, e)| e.idle())
            .min_by_key(|(_, e)| e.first)
            .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

impl Slot {
    /// The guess was wrong: it counts, and the fifth locks the pair.
    pub fn fail(mut self) {
        self.settled = true;
        let now = Instant::now();
        let mut inner = lock(&self.inner);
        let Some(e) = inner.map.get_mut(&self.key).filter(|e| e.id == self.id) else {
            return;
        };
        e.in_flight = e.in_flight.saturating_sub(1);
        e.failures += 1;
        if e.failures >= MAX_FAILURES {
            e.locked_until = Some(now + LOCKOUT);
        }
    }

    /// The right password: the pair's failures are forgotten.
    pub fn succeed(mut self) {
        self.settled = true;
        let mut inner = lock(&self.inner);
        let Some(e) = inner.map.get_mut(&self.key).filter(|e| e.id == self.id) else {
            return;
        };
        e.in_flight = e.in_flight.saturating_sub(1);
        e.failures = 0;
        e.locked_until = None;
        if e.idle() {
            inner.map.remove(&self.key);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let mut inner = lock(&self.inner);
        let Some(e) = inner.map.get_mut(&self.key).filter(|e| e.id == self.id) else {
            return;
        };
        e.in_flight = e.in_flight.saturating_sub(1);
        if e.idle() && e.failures == 0 && e.locked_until.is_none() {
            inner.map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn locks_after_five_and_is_per_pair() {
        let t = Throttle::default();
        let a = ip("10.0.0.1");
        for _ in 0..4 {
            t.reserve(a, "admin").unwrap().fail();
            assert!(t.reserve(a, "admin").is_ok());
        }
        t.reserve(a, "Admin").unwrap().fail();
        let wait = t.reserve(a, "admin").err().unwrap();
        assert!(wait > Duration::from_secs(290));
        assert!(t.reserve(a, "bob").is_ok());
        assert!(t.reserve(ip("10.0.0.2"), "admin").is_ok());
    }

    #[test]
    fn success_forgets_failures() {
        let t = Throttle::default();
        let a = ip("10.0.0.1");
        for _ in 0..4 {
            t.reserve(a, "admin").unwrap().fail();
        }
        t.reserve(a, "admin").unwrap().succeed();
        for _ in 0..4 {
            t.reserve(a, "admin").unwrap().fail();
        }
        assert!(t.reserve(a, "admin").is_ok());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn parallel_guesses_share_one_budget() {
        let t = Throttle::default();
        let a = ip("10.0.0.1");
        // Five guesses in flight at once: the sixth is refused before any
        // of them has been verified.
        let slots: Vec<Slot> = (0..5).map(|_| t.reserve(a, "admin").unwrap()).collect();
        assert_eq!(t.reserve(a, "admin").err(), Some(PENDING_RETRY));
        for s in slots {
            s.fail();
        }
        assert!(t.reserve(a, "admin").err().unwrap() > Duration::from_secs(290));
    }

    #[test]
    fn an_unsettled_slot_is_given_back() {
        let t = Throttle::default();
        let a = ip("10.0.0.1");
        for _ in 0..10 {
            drop(t.reserve(a, "admin").unwrap());
        }
        assert_eq!(t.len(), 0);
        let slots: Vec<Slot> = (0..5).map(|_| t.reserve(a, "admin").unwrap()).collect();
        drop(slots);
        assert!(t.reserve(a, "admin").is_ok());
    }

    #[test]
    fn parallel_threads_evaluate_at_most_five() {
        let t = Throttle::default();
        let evaluated = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..32 {
                s.spawn(|| {
                    if let Ok(slot) = t.reserve(ip("10.0.0.1"), "admin") {
                        evaluated.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        slot.fail();
                    }
                });
            }
        });
        assert!(evaluated.into_inner() <= MAX_FAILURES);
    }

    #[test]
    fn memory_is_bounded() {
        let t = Throttle::default();
        for i in 0..(CAP + 50) {
            t.reserve(ip("10.0.0.1"), &format!("u{i}")).unwrap().fail();
        }
        assert!(t.len() <= CAP);
    }
}
