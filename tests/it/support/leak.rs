//! The leak scan: after a test created credentials, none of
//! them may appear in plaintext in the database (every table, and the raw
//! SQLite files), the process log, or the audit log as the API serves it.
//! The one exception is the generated admin password, printed once on the
//! bootstrap line of stderr by design.

use super::{TestApp, db, read_lossy, strip_ansi};

/// What to look for: the credential itself and, for prefixed tokens, the
/// random part alone (so a stripped prefix does not hide a leak).
fn needles(secret: &str) -> Vec<String> {
    let mut v = vec![secret.to_string()];
    for p in ["asg_sess_", "asg_pat_", "asg_"] {
        if let Some(rest) = secret.strip_prefix(p) {
            v.push(rest.to_string());
            break;
        }
    }
    v
}

impl TestApp {
    /// Scan everything for every credential this test saw, and fail on any
    /// finding. `extra` adds values the helpers could not see (e.g.
    /// passwords typed by the test).
    pub async fn leak_scan(&self, extra: &[&str]) {
        let found = self.find_leaks(extra).await;
        assert!(found.is_empty(), "LEAKS:\n  - {}", found.join("\n  - "));
    }

    /// Where credentials appear in plaintext (empty = clean).
    pub async fn find_leaks(&self, extra: &[&str]) -> Vec<String> {
        // The process log is part of the corpus: an in-process app has none,
        // and a scan without it would pass where the binary would leak.
        self.assert_process();
        let mut secrets = self.secrets();
        secrets.extend(extra.iter().map(|s| s.to_string()));
        secrets.sort();
        secrets.dedup();
        assert!(!secrets.is_empty(), "leak scan without secrets");

        let mut corpus: Vec<(String, String)> = Vec::new();
        for (table, rows) in db::dump_tables(&self.sandbox).await {
            corpus.push((format!("table `{table}`"), rows.join("\n")));
        }
        if let Some(f) = self.sandbox.sqlite_file() {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let p = format!("{}{suffix}", f.display());
                corpus.push((format!("file {p}"), read_lossy(std::path::Path::new(&p))));
            }
        }

        // Every process log of the sandbox (restarts and replicas included).
        let mut bootstrap_lines = 0;
        for entry in std::fs::read_dir(&self.sandbox.dir).unwrap().flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "log") {
                let text = strip_ansi(&read_lossy(&p));
                let mut kept = String::new();
                for line in text.lines() {
                    let is_bootstrap = line.contains("password: ")
                        && line.contains("username: ")
                        && self.admin_password_generated
                        && line.contains(&self.admin_password);
                    if is_bootstrap {
                        bootstrap_lines += 1;
                        // The password may appear here, and nothing else secret.
                        kept.push_str(&line.replace(&self.admin_password, "<admin-password>"));
                    } else {
                        kept.push_str(line);
                    }
                    kept.push('\n');
                }
                corpus.push((format!("log {}", p.display()), kept));
            }
        }
        assert!(
            bootstrap_lines <= 1,
            "the generated admin password was printed {bootstrap_lines} times"
        );

        // The audit log as the API serves it, every page.
        let admin = self.admin_token().await;
        let mut cursor = String::new();
        let mut audit = String::new();
        loop {
            let r = self
                .get(&format!("/api/audit?limit=500{cursor}"), Some(&admin))
                .await;
            r.expect(200);
            let v = r.json();
            audit.push_str(&r.text);
            match v["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => break,
            }
        }
        corpus.push(("GET /api/audit".into(), audit));

        let mut found = Vec::new();
        for s in &secrets {
            for n in needles(s) {
                for (place, text) in &corpus {
                    if text.contains(&n) {
                        found.push(format!(
                            "a credential ({}…) appears in plaintext in {place}",
                            &n[..n.len().min(12)]
                        ));
                    }
                }
            }
        }
        found
    }
}
