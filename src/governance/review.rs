//! Review dates: each tier's window, the date a project is due for review,
//! extensions, and when a project is overdue. Pure: the tier, the evidence,
//! the clock's `now` and the operator's `review.*` settings in, dates out.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::Classification;
use super::evidence::Evidence;
use crate::config::file::ReviewConfig;

/// How many days a project of `tier` goes between reviews.
pub fn window_days(tier: Classification, cfg: &ReviewConfig) -> u32 {
    match tier {
        Classification::Poc => cfg.poc_window_days,
        Classification::LightOperational => cfg.light_window_days,
        Classification::WideOperational => cfg.wide_window_days,
        Classification::CriticalPath => cfg.critical_window_days,
    }
}

/// The `recurring_review_date` evidence field as midnight UTC, when set
/// and readable.
pub fn recurring_review_date(ev: &Evidence) -> Option<DateTime<Utc>> {
    let s = ev.get("recurring_review_date")?.as_str()?;
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc())
}

/// When a project entering `tier` at `now` is next due for review: a PoC
/// gets a fresh window (a PoC is meant to be short-lived); an operational
/// tier takes the team's own `recurring_review_date` when they recorded
/// one and it falls inside the tier's window, else the window's end. The
/// team may review more often than the tier asks, never less.
pub fn due_date(
    tier: Classification,
    now: DateTime<Utc>,
    ev: &Evidence,
    cfg: &ReviewConfig,
) -> DateTime<Utc> {
    let fresh = now + Duration::days(i64::from(window_days(tier, cfg)));
    match tier {
        Classification::Poc => fresh,
        _ => recurring_review_date(ev).map_or(fresh, |d| d.min(fresh)),
    }
}

/// The review date after a tier change or a new `recurring_review_date`:
/// the earlier of the current date and the one computed for the change. A
/// change can bring a review forward, never push it back: only an
/// extension (within `review.auto_extensions`, or approved) moves a review
/// date later, so neither demoting and promoting again nor editing the
/// team's date escapes a review.
pub fn recomputed(current: Option<DateTime<Utc>>, computed: DateTime<Utc>) -> DateTime<Utc> {
    current.map_or(computed, |c| c.min(computed))
}

/// The date after one extension: a window of the project's tier from the
/// later of now and the current date (extending an overdue project starts
/// from today, so an extension always moves the date past now).
pub fn extended(
    tier: Classification,
    now: DateTime<Utc>,
    current: Option<DateTime<Utc>>,
    cfg: &ReviewConfig,
) -> DateTime<Utc> {
    let from = current.map_or(now, |d| d.max(now));
    from + Duration::days(i64::from(window_days(tier, cfg)))
}

/// How an extension is granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extension {
    /// Within `review.auto_extensions`: the date moves at once.
    Automatic,
    /// Beyond it: an admin decides.
    NeedsApproval,
}

/// Extension number `used + 1`, with `auto` granted without a person.
pub fn extension(used: i64, auto: u32) -> Extension {
    if used < i64::from(auto) {
        Extension::Automatic
    } else {
        Extension::NeedsApproval
    }
}

/// Whether a project due on `date` is overdue at `now` (no date: never).
pub fn is_overdue(date: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    date.is_some_and(|d| d < now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cfg() -> ReviewConfig {
        ReviewConfig {
            poc_window_days: 90,
            light_window_days: 365,
            wide_window_days: 180,
            critical_window_days: 30,
            auto_extensions: 1,
            sweep_secs: 86_400,
        }
    }

    #[test]
    fn changes_only_bring_a_review_forward() {
        let (early, late) = (at("2026-02-01T00:00:00Z"), at("2027-02-01T00:00:00Z"));
        for (current, computed, want) in [
            (None, late, late),
            (Some(early), late, early),
            (Some(late), early, early),
            (Some(early), early, early),
        ] {
            assert_eq!(
                recomputed(current, computed),
                want,
                "{current:?} {computed}"
            );
        }
    }

    #[test]
    fn due_dates() {
        use Classification::*;
        let now = at("2026-01-01T12:00:00Z");
        let none = Evidence::new();
        let mut dated = Evidence::new();
        dated.insert("recurring_review_date".into(), json!("2026-06-30"));
        let mut bad = Evidence::new();
        bad.insert("recurring_review_date".into(), json!("soon"));
        let cases = [
            (Poc, &none, "2026-04-01T12:00:00Z"),
            // A PoC ignores the team's date: its window is the point.
            (Poc, &dated, "2026-04-01T12:00:00Z"),
            (LightOperational, &none, "2027-01-01T12:00:00Z"),
            (LightOperational, &dated, "2026-06-30T00:00:00Z"),
            (LightOperational, &bad, "2027-01-01T12:00:00Z"),
            (WideOperational, &none, "2026-06-30T12:00:00Z"),
            (CriticalPath, &none, "2026-01-31T12:00:00Z"),
            // The team's date counts only inside the tier's window.
            (CriticalPath, &dated, "2026-01-31T12:00:00Z"),
        ];
        for (tier, ev, want) in cases {
            assert_eq!(due_date(tier, now, ev, &cfg()), at(want), "{tier:?} {ev:?}");
        }
    }

    #[test]
    fn extensions_move_the_date_past_now() {
        use Classification::*;
        let now = at("2026-03-01T00:00:00Z");
        let cases = [
            // Not yet due: a window from the current date.
            (Poc, Some("2026-03-11T00:00:00Z"), "2026-06-09T00:00:00Z"),
            // Overdue: a window from now, never from the past date.
            (Poc, Some("2026-01-01T00:00:00Z"), "2026-05-30T00:00:00Z"),
            (CriticalPath, None, "2026-03-31T00:00:00Z"),
            (
                LightOperational,
                Some("2026-03-01T00:00:00Z"),
                "2027-03-01T00:00:00Z",
            ),
        ];
        for (tier, cur, want) in cases {
            let got = extended(tier, now, cur.map(at), &cfg());
            assert_eq!(got, at(want), "{tier:?} {cur:?}");
            assert!(got > now);
            assert!(cur.is_none_or(|c| got > at(c)));
        }
    }

    #[test]
    fn extension_counting() {
        use Extension::*;
        let cases = [
            (0, 0, NeedsApproval),
            (0, 1, Automatic),
            (1, 1, NeedsApproval),
            (2, 3, Automatic),
            (3, 3, NeedsApproval),
            (7, 3, NeedsApproval),
        ];
        for (used, auto, want) in cases {
            assert_eq!(extension(used, auto), want, "used {used}, auto {auto}");
        }
    }

    #[test]
    fn overdue() {
        let now = at("2026-03-01T00:00:00Z");
        let cases = [
            (None, false),
            (Some("2026-02-28T23:59:59Z"), true),
            (Some("2026-03-01T00:00:00Z"), false),
            (Some("2026-03-02T00:00:00Z"), false),
        ];
        for (d, want) in cases {
            assert_eq!(is_overdue(d.map(at), now), want, "{d:?}");
        }
    }
}
