//! Direct database access from the tests: a fresh Postgres database per
//! sandbox, and dumps of every table (as text) on both engines.

use std::collections::BTreeMap;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

use super::{Engine, Sandbox, pg_base_url};

fn with_db(base: &str, db: &str) -> String {
    let base = base.split('?').next().unwrap_or(base);
    let (head, _) = base
        .rsplit_once('/')
        .expect("ASGARD_TEST_PG_URL has no database path");
    format!("{head}/{db}")
}

/// `CREATE DATABASE t_<random>` on the suite's Postgres; returns (url, name).
pub async fn create_pg_database() -> (String, String) {
    let base = pg_base_url().expect("ASGARD_TEST_PG_URL is not set");
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("connecting to ASGARD_TEST_PG_URL: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .expect("CREATE DATABASE");
    let _ = c.close().await;
    (with_db(&base, &name), name)
}

/// Best-effort `DROP DATABASE … WITH (FORCE)`, from a Drop impl.
pub fn drop_pg_database_blocking(name: &str) {
    let Some(base) = pg_base_url() else { return };
    let name = name.to_string();
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async {
            let mut c = sqlx::PgConnection::connect(&base).await.ok()?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut c)
                .await
                .ok()?;
            let _ = c.close().await;
            Some(())
        })
    })
    .join();
}

/// Run one statement on the sandbox's database, as an operator (or an
/// identity provider's profile sync) would change a row.
pub async fn exec(sb: &Sandbox, sql: &str) {
    match sb.engine {
        Engine::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&sb.db_url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(&sb.db_url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// Every table's rows rendered as text: table name → rows.
pub async fn dump_tables(sb: &Sandbox) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    match sb.engine {
        Engine::Sqlite => {
            let file = sb.sqlite_file().unwrap();
            let mut c = SqliteConnectOptions::new()
                .filename(&file)
                .read_only(true)
                .connect()
                .await
                .unwrap_or_else(|e| panic!("opening {}: {e}", file.display()));
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in tables {
                let cols: Vec<String> = sqlx::query(&format!("PRAGMA table_info(\"{t}\")"))
                    .fetch_all(&mut c)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>("name"))
                    .collect();
                // Every column as bytes (text, numbers and blobs alike).
                let expr = cols
                    .iter()
                    .map(|c| format!("CAST(\"{c}\" AS BLOB)"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let rows: Vec<String> = sqlx::query(&format!("SELECT {expr} FROM \"{t}\""))
                    .fetch_all(&mut c)
                    .await
                    .unwrap_or_else(|e| panic!("dumping {t}: {e}"))
                    .iter()
                    .map(|r| {
                        (0..cols.len())
                            .map(|i| {
                                let v: Option<Vec<u8>> = r.get(i);
                                v.map(|b| String::from_utf8_lossy(&b).into_owned())
                                    .unwrap_or_else(|| "NULL".into())
                            })
                            .collect::<Vec<_>>()
                            .join("\t")
                    })
                    .collect();
                out.insert(t, rows);
            }
            let _ = c.close().await;
        }
        Engine::Postgres => {
            let mut c = PgConnectOptions::from_str(&sb.db_url)
                .unwrap()
                .connect()
                .await
                .unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in tables {
                let rows: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT x::text FROM \"{t}\" x"))
                        .fetch_all(&mut c)
                        .await
                        .unwrap_or_else(|e| panic!("dumping {t}: {e}"));
                out.insert(t, rows);
            }
            let _ = c.close().await;
        }
    }
    out
}

/// Row counts of every table.
pub async fn row_counts(sb: &Sandbox) -> BTreeMap<String, usize> {
    dump_tables(sb)
        .await
        .into_iter()
        .map(|(t, rows)| (t, rows.len()))
        .collect()
}

/// The tables whose content must not change when a request is refused
/// (sessions, PATs and keys are left out only for their `last_*` stamps,
/// and are compared by count).
pub async fn snapshot(sb: &Sandbox) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, usize>) {
    let all = dump_tables(sb).await;
    let counts = all.iter().map(|(t, r)| (t.clone(), r.len())).collect();
    let stable = all
        .into_iter()
        .filter(|(t, _)| {
            matches!(
                t.as_str(),
                "projects" | "project_counters" | "audit_events" | "users" | "meta"
            )
        })
        .collect();
    (stable, counts)
}

/// What changed between two snapshots (empty = nothing written).
pub fn changes(
    before: &(BTreeMap<String, Vec<String>>, BTreeMap<String, usize>),
    after: &(BTreeMap<String, Vec<String>>, BTreeMap<String, usize>),
) -> Vec<String> {
    let mut out = Vec::new();
    if before.1 != after.1 {
        out.push(format!(
            "row counts changed: {:?} -> {:?}",
            before.1, after.1
        ));
    }
    for (t, rows) in &before.0 {
        if Some(rows) != after.0.get(t) {
            out.push(format!("table {t} changed"));
        }
    }
    out
}
