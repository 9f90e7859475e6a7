//! The one source of time. Every timestamp Asgard writes or compares comes
//! from the app's `Clock` and is bound into SQL as a parameter, never taken
//! from the database's `now()`: one code path on both engines, and tests move
//! time on a fake clock instead of sleeping. Replicas sharing a Postgres
//! database therefore need synchronised clocks (NTP); lease lifetimes are
//! tens of seconds, so the usual sub-second skew does not matter.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// The system clock, or (in tests) a fake one that moves only when told.
#[derive(Clone, Default)]
pub struct Clock {
    fake: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Clock::default()
    }

    /// A clock standing at `start` until `advance` moves it.
    pub fn fake(start: DateTime<Utc>) -> Self {
        Clock {
            fake: Some(Arc::new(Mutex::new(start))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.fake {
            None => Utc::now(),
            Some(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Move a fake clock forward; the system clock cannot be moved.
    pub fn advance(&self, by: std::time::Duration) {
        if let Some(t) = &self.fake {
            let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
            *t += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fake_clock_moves_only_when_told() {
        let start = Utc::now() - chrono::Duration::days(1);
        let c = Clock::fake(start);
        assert_eq!(c.now(), start);
        c.advance(std::time::Duration::from_secs(90));
        assert_eq!(c.now(), start + chrono::Duration::seconds(90));
        let shared = c.clone();
        shared.advance(std::time::Duration::from_secs(10));
        assert_eq!(c.now(), start + chrono::Duration::seconds(100));
        let sys = Clock::system();
        let before = Utc::now();
        sys.advance(std::time::Duration::from_secs(3600));
        assert!(sys.now() - before < chrono::Duration::seconds(60));
    }
}
