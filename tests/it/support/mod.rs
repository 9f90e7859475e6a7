//! Test support: a sandbox (temp dir + database) per test, Asgard booted
//! inside it (`TestApp`: in this process by default, the real binary with
//! `Opts::process()`), HTTP helpers, database dumps and the
//! leak scan. Every test gets its own directory, database and port, so tests
//! run in parallel safely.

#![allow(dead_code)]

pub mod app;
pub mod db;
pub mod governance;
pub mod http;
pub mod inproc;
pub mod leak;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use app::TestApp;
pub use http::{Fails, Resp};

/// A fixed master key for Postgres runs (and tests that want an explicit key).
pub const KEY_A: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const KEY_B: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

/// The runbook's `asgard.yaml` (step 2).
pub const RUNBOOK_YAML: &str =
    "groups:\n  - { key: platform, display_name: Platform, cost_center: CC-100 }\n";

/// The runbook's registration body (step 5), exactly.
pub const RUNBOOK_PROJECT: &str = r#"{"name":"Pilot","owner_email":"owner@corp.example","manager_email":"mgr@corp.example","group":"platform","budget_usd":100}"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The Postgres server the suite may use (`ASGARD_TEST_PG_URL`).
pub fn pg_base_url() -> Option<String> {
    std::env::var("ASGARD_TEST_PG_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

/// Whether Postgres runs are possible; prints a note when they are skipped.
/// Under `CI` (set and not `0`) a missing URL fails the test instead: a skip
/// must never pass CI.
pub fn pg_enabled(test: &str) -> bool {
    if pg_base_url().is_some() {
        true
    } else if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0") {
        panic!("CI is set but ASGARD_TEST_PG_URL is not: `{test}` cannot skip its Postgres run")
    } else {
        eprintln!("note: ASGARD_TEST_PG_URL is not set; skipping the Postgres run of `{test}`");
        false
    }
}

/// `both_engines!(name => body_fn, ...)`: a module `name` with tests `sqlite`
/// and `postgres`, each calling `body_fn(Engine)`. The Postgres one is skipped
/// (with a note) when `ASGARD_TEST_PG_URL` is not set.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident => $body:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::support::Engine::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::support::pg_enabled(concat!(module_path!())) {
                    return;
                }
                super::$body($crate::support::Engine::Postgres).await
            }
        }
    )* };
}

/// `postgres_only!(name => body_fn)`: one test `name::postgres`.
#[macro_export]
macro_rules! postgres_only {
    ($($name:ident => $body:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::support::pg_enabled(concat!(module_path!())) {
                    return;
                }
                super::$body().await
            }
        }
    )* };
}

/// Options for one boot: extra environment, variables to remove from the
/// sandbox defaults, and the config file text.
#[derive(Clone, Debug)]
pub struct Opts {
    pub env: Vec<(String, String)>,
    pub unset: Vec<String>,
    pub yaml: String,
    /// `--config` points here instead of at the written `yaml`.
    pub config_file: Option<PathBuf>,
    /// `--bind` (default 127.0.0.1:0).
    pub bind: String,
    /// Run the real binary instead of the in-process server.
    pub process: bool,
    /// In-process only: the store's clock stands here and moves only when
    /// the test advances it (`TestApp::clock`).
    pub fake_clock: Option<chrono::DateTime<chrono::Utc>>,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            env: Vec::new(),
            unset: Vec::new(),
            yaml: RUNBOOK_YAML.to_string(),
            config_file: None,
            bind: "127.0.0.1:0".into(),
            process: false,
            fake_clock: None,
        }
    }
}

impl Opts {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
    /// Remove a variable the sandbox would otherwise set (e.g. ASGARD_SECRET_KEY).
    pub fn unset(mut self, k: &str) -> Self {
        self.unset.push(k.to_string());
        self
    }
    pub fn yaml(mut self, text: &str) -> Self {
        self.yaml = text.to_string();
        self
    }
    pub fn bind(mut self, addr: &str) -> Self {
        self.bind = addr.to_string();
        self
    }
    pub fn config_file(mut self, p: &str) -> Self {
        self.config_file = Some(PathBuf::from(p));
        self
    }
    /// Boot the real `asgard` binary: for tests that read its log lines,
    /// send it signals or check its exit.
    pub fn process(mut self) -> Self {
        self.process = true;
        self
    }
    /// In-process only: a fake clock standing at `at` (moved by the test).
    pub fn fake_clock(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.fake_clock = Some(at);
        self
    }
    /// A fixed admin password (otherwise the boot generates one).
    pub fn admin_password(self, pw: &str) -> Self {
        self.env("ASGARD_ADMIN_PASSWORD", pw)
    }
}

/// A test's world: its own directory (the process cwd, config and SQLite
/// file live there) and its own database. Several processes may share one
/// sandbox (replicas, restarts). Dropping the last handle removes the
/// directory (kept, with a note, when the test panicked) and the Postgres
/// database.
pub struct Sandbox {
    pub engine: Engine,
    pub dir: PathBuf,
    pub db_url: String,
    /// The master key the sandbox passes by default (Postgres needs one).
    pub secret_key: Option<String>,
    pg_db: Option<String>,
    boots: std::sync::atomic::AtomicUsize,
}

impl Sandbox {
    pub async fn new(engine: Engine) -> Arc<Sandbox> {
        let dir = std::env::temp_dir().join(format!("asgard-it-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("creating the sandbox dir");
        let (db_url, secret_key, pg_db) = match engine {
            Engine::Sqlite => (
                // The parent dir does not exist yet: the binary must create it.
                format!("sqlite://{}", dir.join("data").join("asgard.db").display()),
                None,
                None,
            ),
            Engine::Postgres => {
                let (url, name) = db::create_pg_database().await;
                (url, Some(KEY_A.to_string()), Some(name))
            }
        };
        Arc::new(Sandbox {
            engine,
            dir,
            db_url,
            secret_key,
            pg_db,
            boots: Default::default(),
        })
    }

    /// The SQLite database file (None on Postgres).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        match self.engine {
            Engine::Sqlite => Some(self.dir.join("data").join("asgard.db")),
            Engine::Postgres => None,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub(crate) fn next_boot(&self) -> usize {
        self.boots.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(name) = self.pg_db.take() {
            db::drop_pg_database_blocking(&name);
        }
        if std::thread::panicking() || std::env::var_os("ASGARD_IT_KEEP").is_some() {
            eprintln!("note: kept the test sandbox {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Remove ANSI colour escapes (in case the binary colours its log).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

pub fn read_lossy(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}
