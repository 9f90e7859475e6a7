//! The audit log. Domain functions call `record` inside the same
//! transaction as the change they audit. `data` holds field names and safe
//! values only: callers must never put a password, token, key or secret value
//! in an event (the leak-scan tests grep for them).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::store::{Store, Tx};

/// Caller-typed text (a username at a failed login, an identity provider's
/// error text) made safe for the audit log and log lines: control
/// characters, Unicode line/paragraph separators and bidirectional
/// overrides become `\u{..}` escapes, and `\` is doubled so an escape
/// cannot be forged. Anything else, including non-ASCII letters, is kept.
pub fn escape_untrusted(s: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c == '\\'
            || c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One event to write.
pub struct Event<'a> {
    pub actor: String,
    pub action: &'a str,
    pub project_id: Option<&'a str>,
    pub target: Option<&'a str>,
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    pub data: Value,
    pub request_id: Option<&'a str>,
}

impl<'a> Event<'a> {
    pub fn new(p: &'a Principal, action: &'a str) -> Self {
        Event {
            actor: p.actor(),
            action,
            project_id: None,
            target: None,
            outcome: "ok",
            reason: None,
            data: Value::Object(Default::default()),
            request_id: p.request_id(),
        }
    }

    pub fn system(actor: &str, action: &'a str) -> Self {
        Event {
            actor: actor.to_string(),
            action,
            project_id: None,
            target: None,
            outcome: "ok",
            reason: None,
            data: Value::Object(Default::default()),
            request_id: None,
        }
    }

    pub fn project(mut self, id: &'a str) -> Self {
        self.project_id = Some(id);
        self
    }
    pub fn target(mut self, t: &'a str) -> Self {
        self.target = Some(t);
        self
    }
    pub fn outcome(mut self, o: &'a str) -> Self {
        self.outcome = o;
        self
    }
    pub fn reason(mut self, r: Option<&'a str>) -> Self {
        self.reason = r;
        self
    }
    pub fn data(mut self, d: Value) -> Self {
        self.data = d;
        self
    }
}

pub async fn record(tx: &mut Tx, e: Event<'_>) -> Result<()> {
    let data = e.data.to_string();
    let at = tx.now();
    on_tx!(tx, |c| {
        sqlx::query(
            "INSERT INTO audit_events (at, actor, action, project_id, target, outcome, reason, data, request_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(at)
        .bind(&e.actor)
        .bind(e.action)
        .bind(e.project_id)
        .bind(e.target)
        .bind(e.outcome)
        .bind(e.reason)
        .bind(&data)
        .bind(e.request_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Record a standalone event (its own transaction), e.g. a failed login.
pub async fn record_now(store: &Store, e: Event<'_>) -> Result<()> {
    let mut tx = store.begin().await?;
    record(&mut tx, e).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub project_id: Option<String>,
    pub target: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    #[serde(skip)]
    pub data: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct Filter {
    pub project: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub cursor: Option<i64>,
    pub limit: i64,
}

/// List events newest first, scoped: admins and auditors see everything,
/// anyone else only events of projects they own or manage.
pub async fn list(
    store: &Store,
    p: &Principal,
    f: &Filter,
) -> Result<(Vec<Value>, Option<String>)> {
    let scope_email: Option<String> = if p.reads_everything() {
        None
    } else {
        match p.email() {
            Some(e) => Some(e.to_string()),
            None => {
                return Err(Error::forbidden(
                    "the audit log needs a user with an email, an admin or an auditor",
                    "ask an admin for access",
                ));
            }
        }
    };
    let limit = f.limit.clamp(1, 500);
    let rows: Vec<AuditRow> = on_pool!(store.read(), |pool| {
        sqlx::query_as(
            "SELECT id, at, actor, action, project_id, target, outcome, reason, data, request_id
             FROM audit_events
             WHERE ($1 IS NULL OR project_id = $1)
               AND ($2 IS NULL OR actor = $2)
               AND ($3 IS NULL OR action = $3)
               AND ($4 IS NULL OR at >= $4)
               AND ($5 IS NULL OR at < $5)
               AND ($6 IS NULL OR id < $6)
               AND ($7 IS NULL OR project_id IN (SELECT id FROM projects WHERE owner_email = $7 OR manager_email = $7))
             ORDER BY id DESC LIMIT $8",
        )
        .bind(&f.project)
        .bind(&f.actor)
        .bind(&f.action)
        .bind(f.since)
        .bind(f.until)
        .bind(f.cursor)
        .bind(&scope_email)
        .bind(limit + 1)
        .fetch_all(pool)
        .await
    })?;
    let more = rows.len() as i64 > limit;
    let mut out = Vec::with_capacity(rows.len());
    let mut last = None;
    for r in rows.into_iter().take(limit as usize) {
        last = Some(r.id);
        let data: Value = serde_json::from_str(&r.data).unwrap_or(Value::Null);
        let mut v = serde_json::to_value(&r).map_err(Error::internal)?;
        v["data"] = data;
        out.push(v);
    }
    Ok((
        out,
        if more {
            last.map(|i| i.to_string())
        } else {
            None
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::{Event, escape_untrusted};

    #[test]
    fn escapes_control_characters() {
        assert_eq!(escape_untrusted("alice@corp.example"), "alice@corp.example");
        assert_eq!(escape_untrusted("Zoë"), "Zoë");
        assert_eq!(escape_untrusted("evil\nuser\u{7}"), "evil\\u{a}user\\u{7}");
        assert_eq!(escape_untrusted("a\\u{a}"), "a\\\\u{a}");
        assert_eq!(
            escape_untrusted("x\r\t\u{1b}[31m\u{202e}"),
            "x\\u{d}\\u{9}\\u{1b}[31m\\u{202e}"
        );
        for s in ["evil\nuser\u{7}", "\u{2028}", "\u{85}"] {
            assert!(!escape_untrusted(s).chars().any(char::is_control), "{s:?}");
        }
    }

    /// (input, escaped): what is kept, what becomes an escape.
    #[test]
    fn escape_table() {
        let cases = [
            ("", ""),
            ("plain ascii 123 !?", "plain ascii 123 !?"),
            ("Zoë 東京 ✓", "Zoë 東京 ✓"),
            ("a\\b", "a\\\\b"),
            ("\u{a}", "\\u{a}"),
            ("\n", "\\u{a}"),
            ("tab\there", "tab\\u{9}here"),
            ("\0", "\\u{0}"),
            ("del\u{7f}", "del\\u{7f}"),
            ("nel\u{85}", "nel\\u{85}"),
            ("ls\u{2028}ps\u{2029}", "ls\\u{2028}ps\\u{2029}"),
            (
                "\u{202a}\u{202b}\u{202c}\u{202d}\u{202e}",
                "\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{202e}",
            ),
            ("\u{2066}x\u{2069}", "\\u{2066}x\\u{2069}"),
            // Neighbours of the ranges are ordinary text.
            (
                "\u{2027}\u{202f}\u{2065}\u{206a}",
                "\u{2027}\u{202f}\u{2065}\u{206a}",
            ),
        ];
        for (input, want) in cases {
            let got = escape_untrusted(input);
            assert_eq!(got, want, "{input:?}");
            // Unchanged text is not copied.
            assert_eq!(
                matches!(got, std::borrow::Cow::Borrowed(_)),
                input == want,
                "{input:?}"
            );
        }
    }

    /// Distinct inputs never escape to the same text, so an escape cannot
    /// be forged by typing what it looks like.
    #[test]
    fn escaping_is_injective() {
        let inputs = [
            "a\nb",
            "a\\nb",
            "a\\u{a}b",
            "a\\\\u{a}b",
            "a\u{202e}b",
            "a\\u{202e}b",
            "x\u{7}",
            "x\\u{7}",
            "",
            "\\",
        ];
        let mut seen = std::collections::HashMap::new();
        for i in inputs {
            if let Some(other) = seen.insert(escape_untrusted(i).into_owned(), i) {
                panic!("{i:?} and {other:?} escape alike");
            }
        }
    }

    #[test]
    fn events_are_built_with_safe_defaults() {
        let e = Event::system("system:reconciler", "request.requeued");
        assert_eq!(
            (e.actor.as_str(), e.action, e.outcome),
            ("system:reconciler", "request.requeued", "ok")
        );
        assert_eq!(
            (e.project_id, e.target, e.reason, e.request_id),
            (None, None, None, None)
        );
        assert_eq!(e.data, serde_json::json!({}));
        let e = e
            .project("proj-1")
            .target("req-1")
            .outcome("denied")
            .reason(Some("why"))
            .data(serde_json::json!({"field": "name"}));
        assert_eq!(
            (e.project_id, e.target, e.outcome, e.reason),
            (Some("proj-1"), Some("req-1"), "denied", Some("why"))
        );
        assert_eq!(e.data["field"], "name");
        // A caller's event carries its actor and request id.
        let p = crate::auth::Principal::dev_insecure(Some("rid-1".into()));
        let e = Event::new(&p, "project.created");
        assert_eq!(e.actor, p.actor());
        assert_eq!(e.request_id, Some("rid-1"));
    }
}

/// The audit cursor on both engines: events recorded at one instant (a
/// fake clock that does not move) page newest first by id, every event
/// exactly once, and the time filters cut ties the same way.
#[cfg(test)]
mod pages {
    use super::*;
    use crate::clock::Clock;
    use crate::store::test_support::fresh_store;

    async fn pages_in_id_order(postgres: bool) {
        let Some((store, cleanup)) = fresh_store(postgres).await else {
            return;
        };
        let clock = Clock::fake(Utc::now());
        let s = store.with_clock(clock.clone());
        let actions: Vec<String> = (0..7).map(|i| format!("test.e{i}")).collect();
        for (i, a) in actions.iter().enumerate() {
            // Two instants, so ties and a boundary are both there.
            if i == 4 {
                clock.advance(std::time::Duration::from_millis(1));
            }
            record_now(&s, Event::system("system:test", a))
                .await
                .unwrap();
        }
        let admin = Principal::dev_insecure(None);
        let mut got: Vec<(i64, String)> = Vec::new();
        let mut cursor = None;
        loop {
            let f = Filter {
                cursor,
                limit: 3,
                ..Default::default()
            };
            let (rows, next) = list(&s, &admin, &f).await.unwrap();
            assert!(rows.len() <= 3);
            got.extend(rows.iter().map(|r| {
                (
                    r["id"].as_i64().unwrap(),
                    r["action"].as_str().unwrap().to_string(),
                )
            }));
            match next {
                Some(c) => cursor = Some(c.parse().unwrap()),
                None => break,
            }
        }
        let want: Vec<String> = actions.iter().rev().cloned().collect();
        assert_eq!(got.iter().map(|g| g.1.clone()).collect::<Vec<_>>(), want);
        assert!(got.windows(2).all(|w| w[0].0 > w[1].0), "{got:?}");
        // `since` includes the instant, `until` excludes it.
        let later = clock.now();
        let count = |since, until| {
            let f = Filter {
                since,
                until,
                limit: 500,
                ..Default::default()
            };
            let s = s.clone();
            let admin = admin.clone();
            async move { list(&s, &admin, &f).await.unwrap().0.len() }
        };
        assert_eq!(count(Some(later), None).await, 3);
        assert_eq!(count(None, Some(later)).await, 4);
        cleanup();
    }

    #[tokio::test]
    async fn sqlite() {
        pages_in_id_order(false).await;
    }

    #[tokio::test]
    async fn postgres() {
        pages_in_id_order(true).await;
    }
}
