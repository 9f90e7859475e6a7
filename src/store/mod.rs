//! Persistence only: connection pools, migrations, transactions and leases
//! for both engines. Domain modules write SQL through the `on_pool!` and
//! `on_tx!` macros, which expand one body for SQLite and once for Postgres,
//! so the same query (with `$1…$n` placeholders, which SQLite accepts) runs on
//! both. Where the SQL really differs, callers match on `Store::engine()`.
//!
//! SQLite runs with one writer connection (the engine has one writer anyway;
//! serialising in the pool avoids SQLITE_BUSY upgrade failures) and a pool of
//! readers in WAL mode. A lock file beside the database enforces one process.
//!
//! Because a SQLite database has exactly one process, that process sees every
//! write, so on SQLite the store keeps in-process caches (`cache`) that are
//! exact: every write through `write()` or `begin()` bumps a generation
//! counter after it has committed, and a cached entry is served only while
//! the generation it was read under is still current. Postgres has several
//! replicas writing one database, so it gets no cache.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use cache::{Caches, Generation};

use anyhow::Context;

use crate::clock::Clock;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Clone)]
enum Pools {
    Sqlite { write: SqlitePool, read: SqlitePool },
    Pg(PgPool),
}

/// A borrowed pool of one engine; what `on_pool!` matches on.
pub enum PoolRef<'a> {
    Sqlite(&'a SqlitePool),
    Pg(&'a PgPool),
}

/// The writer pool, borrowed for one statement. Dropping it (at the end of
/// the statement that used it, after the write's `await` has returned, so
/// after SQLite's autocommit) bumps the generation, which invalidates every
/// cached read.
pub struct WriteRef<'a> {
    pool: PoolRef<'a>,
    generation: &'a Generation,
}

impl Drop for WriteRef<'_> {
    fn drop(&mut self) {
        self.generation.bump();
    }
}

/// What `on_pool!` accepts: a reader `PoolRef` or the writer's `WriteRef`.
pub trait AsPool {
    fn as_pool(&self) -> PoolRef<'_>;
}

impl AsPool for PoolRef<'_> {
    fn as_pool(&self) -> PoolRef<'_> {
        match self {
            PoolRef::Sqlite(p) => PoolRef::Sqlite(p),
            PoolRef::Pg(p) => PoolRef::Pg(p),
        }
    }
}

impl AsPool for WriteRef<'_> {
    fn as_pool(&self) -> PoolRef<'_> {
        self.pool.as_pool()
    }
}

/// An open transaction of one engine (`on_tx!` matches on `inner`), with
/// the store's clock, so code that only holds the transaction still takes
/// its time from the one clock.
pub struct Tx {
    pub inner: TxInner,
    clock: Clock,
}

/// The engine's transaction. The SQLite one carries the generation to bump
/// once it has committed.
pub enum TxInner {
    Sqlite(Transaction<'static, Sqlite>, Arc<Generation>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    /// The current time on the store's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Sqlite(t, generation) => {
                let r = t.commit().await;
                // After the commit, never before: a reader that saw the old
                // generation may have read the old rows, and must not keep
                // them. (A commit whose future is dropped half-way is covered
                // by the writer pool's `after_release` hook.)
                generation.bump();
                r
            }
            TxInner::Pg(t) => t.commit().await,
        }
    }
}

/// Run `$body` with `$p` bound to the engine's pool (`&SqlitePool` / `&PgPool`).
/// `$pool` is `store.read()` or `store.write()`; the latter's guard lives to
/// the end of the enclosing statement, so it bumps the generation after the
/// write has completed.
#[macro_export]
macro_rules! on_pool {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $crate::store::AsPool::as_pool(&$pool) {
            $crate::store::PoolRef::Sqlite($p) => $body,
            $crate::store::PoolRef::Pg($p) => $body,
        }
    };
}

/// Run `$body` with `$c` bound to the transaction's connection
/// (`&mut SqliteConnection` / `&mut PgConnection`). Use `&mut *$c` in the body.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match &mut ($tx).inner {
            $crate::store::TxInner::Sqlite(t, _) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::TxInner::Pg(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

#[derive(Clone)]
pub struct Store {
    pools: Pools,
    /// Bumped after every write commits (see the module doc).
    generation: Arc<Generation>,
    /// SQLite only: caches that the generation keeps exact.
    caches: Option<Arc<Caches>>,
    /// Held for the process lifetime: the SQLite single-process lock.
    _lock: Option<Arc<File>>,
    /// The time every lease and expiry is computed with.
    clock: Clock,
}

impl Store {
    pub fn engine(&self) -> Engine {
        match self.pools {
            Pools::Sqlite { .. } => Engine::Sqlite,
            Pools::Pg(_) => Engine::Postgres,
        }
    }

    /// Pool for reads (SQLite: the reader pool).
    pub fn read(&self) -> PoolRef<'_> {
        match &self.pools {
            Pools::Sqlite { read, .. } => PoolRef::Sqlite(read),
            Pools::Pg(p) => PoolRef::Pg(p),
        }
    }

    /// Pool for single-statement writes (SQLite: the one writer). Use it
    /// only inside `on_pool!`, so the guard bumps the generation after the
    /// statement.
    pub fn write(&self) -> WriteRef<'_> {
        let pool = match &self.pools {
            Pools::Sqlite { write, .. } => PoolRef::Sqlite(write),
            Pools::Pg(p) => PoolRef::Pg(p),
        };
        WriteRef {
            pool,
            generation: &self.generation,
        }
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        let inner = match &self.pools {
            Pools::Sqlite { write, .. } => {
                TxInner::Sqlite(write.begin().await?, self.generation.clone())
            }
            Pools::Pg(p) => TxInner::Pg(p.begin().await?),
        };
        Ok(Tx {
            inner,
            clock: self.clock.clone(),
        })
    }

    /// The clock the store binds into time comparisons.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Use `clock` from now on (tests move a fake one).
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// The in-process caches: `Some` on SQLite only.
    pub fn caches(&self) -> Option<&Caches> {
        self.caches.as_deref()
    }

    /// Connect (retrying for up to `patience`), create the SQLite file and its
    /// directory, take the SQLite process lock, and run migrations.
    pub async fn connect(url: &str, patience: Duration) -> anyhow::Result<Store> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).context("invalid Postgres URL")?;
            let pool = retry(patience, || {
                PgPoolOptions::new()
                    .max_connections(16)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect_with(opts.clone())
            })
            .await
            .context("could not connect to Postgres")?;
            // sqlx's Postgres migrator takes an advisory lock, so replicas
            // booting together migrate one at a time.
            sqlx::migrate!("migrations/postgres")
                .run(&pool)
                .await
                .context("running Postgres migrations")?;
            return Ok(Store {
                pools: Pools::Pg(pool),
                generation: Arc::default(),
                caches: None,
                _lock: None,
                clock: Clock::system(),
            });
        }

        let path = crate::config::sqlite_path(url);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating database directory {}", dir.display()))?;
        }
        let lock = take_process_lock(&path)?;
        private_file::prepare(&path)?;
        let base = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let generation = Arc::new(Generation::default());
        let released = generation.clone();
        // The connections are in-process handles that cannot drop like a
        // socket, and sqlx's test before acquire costs two thread hand-offs
        // per query; it stays off on both SQLite pools.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            // A write whose future was dropped mid-way still runs to the end
            // on sqlx's worker thread, after the `WriteRef`/`Tx` bump. The
            // ping queues behind it, so this second bump comes after it.
            .after_release(move |conn, _| {
                let generation = released.clone();
                Box::pin(async move {
                    sqlx::Connection::ping(conn).await?;
                    generation.bump();
                    Ok(true)
                })
            })
            .connect_with(base.clone())
            .await
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        sqlx::migrate!("migrations/sqlite")
            .run(&write)
            .await
            .context("running SQLite migrations")?;
        // About one reader per core: each is an OS thread, and more of them
        // only compete for the same cores (WAL readers never wait for the
        // writer). Two at least, so one slow read cannot stall the rest.
        let readers = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8) as u32;
        let read = SqlitePoolOptions::new()
            .max_connections(readers)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(base.read_only(true))
            .await
            .context("opening SQLite readers")?;
        let caches = Some(Arc::new(Caches::new(generation.clone())));
        Ok(Store {
            pools: Pools::Sqlite { write, read },
            generation,
            caches,
            _lock: Some(Arc::new(lock)),
            clock: Clock::system(),
        })
    }

    /// A trivial query with a deadline, for `/readyz`.
    pub async fn ping(&self, deadline: Duration) -> bool {
        let q = async {
            on_pool!(self.read(), |p| sqlx::query("SELECT 1")
                .execute(p)
                .await
                .map(|r| r.rows_affected())
                .map(|_| ()))
        };
        matches!(tokio::time::timeout(deadline, q).await, Ok(Ok(())))
    }

    pub async fn get_meta(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        on_pool!(self.write(), |p| {
            sqlx::query_scalar::<_, String>("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(p)
                .await
        })
    }

    /// Insert a meta value if absent; returns the stored value (existing wins).
    pub async fn init_meta(&self, key: &str, value: &str) -> Result<String, sqlx::Error> {
        on_pool!(self.write(), |p| {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(value)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(self.get_meta(key).await?.unwrap_or_default())
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            Pools::Pg(p) => p.close().await,
        }
    }
}

async fn retry<T, F, Fut>(patience: Duration, mut f: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let start = std::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if start.elapsed() + delay < patience => {
                tracing::warn!(error = %e, "database not reachable yet; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// One Asgard process per SQLite file: an exclusive advisory lock on
/// `<db>.lock`, held until the process exits.
fn take_process_lock(db: &Path) -> anyhow::Result<File> {
    let mut p: PathBuf = db.to_path_buf();
    let name = format!(
        "{}.lock",
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    p.set_file_name(name);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .with_context(|| format!("opening lock file {}", p.display()))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another Asgard process is using {} (lock {} is held); SQLite supports exactly one replica — use Postgres to run several",
            db.display(),
            p.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => Err(e).context("locking the SQLite lock file"),
    }
}

pub mod cache;
#[cfg(test)]
mod contract_tests;
pub mod lease;
mod private_file;
#[cfg(test)]
pub(crate) mod test_support;
pub mod text_enum;
