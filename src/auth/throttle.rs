//! Login throttle (SPEC §3.3): after 5 failures for one (client IP, username)
//! within 15 minutes, that pair is refused for 5 minutes. In memory, bounded:
//! at most `CAP` pairs are tracked; when full, expired entries are dropped
//! first, then the oldest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);
const LOCKOUT: Duration = Duration::from_secs(5 * 60);
const CAP: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    first: Instant,
    failures: u32,
    locked_until: Option<Instant>,
}

#[derive(Default)]
pub struct Throttle {
    map: Mutex<HashMap<(IpAddr, String), Entry>>,
}

impl Throttle {
    /// `Err(retry_after)` when this pair is locked out.
    pub fn check(&self, ip: IpAddr, user: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get(&(ip, user.to_lowercase()))
            && let Some(until) = e.locked_until
            && until > now
        {
            return Err(until - now);
        }
        Ok(())
    }

    pub fn fail(&self, ip: IpAddr, user: &str) {
        let now = Instant::now();
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAP {
            map.retain(|_, e| {
                now.duration_since(e.first) < WINDOW || e.locked_until.is_some_and(|u| u > now)
            });
            if map.len() >= CAP
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, e)| e.first)
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        let e = map.entry((ip, user.to_lowercase())).or_insert(Entry {
            first: now,
            failures: 0,
            locked_until: None,
        });
        if now.duration_since(e.first) > WINDOW || e.locked_until.is_some_and(|u| u <= now) {
            *e = Entry {
                first: now,
                failures: 0,
                locked_until: None,
            };
        }
        e.failures += 1;
        if e.failures >= MAX_FAILURES {
            e.locked_until = Some(now + LOCKOUT);
        }
    }

    pub fn succeed(&self, ip: IpAddr, user: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(ip, user.to_lowercase()));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_five_and_is_per_pair() {
        let t = Throttle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..4 {
            t.fail(ip, "admin");
            assert!(t.check(ip, "admin").is_ok());
        }
        t.fail(ip, "Admin");
        let wait = t.check(ip, "admin").unwrap_err();
        assert!(wait > Duration::from_secs(290));
        assert!(t.check(ip, "bob").is_ok());
        assert!(t.check("10.0.0.2".parse().unwrap(), "admin").is_ok());
        t.succeed(ip, "admin");
        assert!(t.check(ip, "admin").is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let t = Throttle::default();
        for i in 0..(CAP + 50) {
            t.fail("10.0.0.1".parse().unwrap(), &format!("u{i}"));
        }
        assert!(t.len() <= CAP);
    }
}
