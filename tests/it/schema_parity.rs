//! The two migration histories describe one schema: after the real binary
//! migrated a SQLite file and a Postgres database, both have the same tables,
//! columns (with compatible types and the same nullability), primary keys,
//! indexes (columns, uniqueness, partial or not) and foreign keys (columns,
//! target, ON DELETE). A migration written for one engine only fails here.

use std::collections::BTreeSet;

use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, Row};

use crate::support::{Engine, Opts, Sandbox, TestApp};

/// One fact about the schema, comparable across engines.
type Facts = BTreeSet<String>;

/// The SQLite declared type a Postgres column type corresponds to in our
/// migrations (booleans are integers, timestamps ISO-8601 text).
fn pg_type_class(pg: &str) -> &'static str {
    match pg {
        "text" | "character varying" | "timestamp with time zone" => "TEXT",
        "bigint" | "integer" | "smallint" | "boolean" => "INTEGER",
        "bytea" => "BLOB",
        "double precision" | "real" | "numeric" => "REAL",
        _ => "UNKNOWN",
    }
}

fn sqlite_type_class(decl: &str) -> &'static str {
    match decl.to_ascii_uppercase().as_str() {
        "TEXT" => "TEXT",
        "INTEGER" | "BIGINT" | "BOOLEAN" => "INTEGER",
        "BLOB" => "BLOB",
        "REAL" => "REAL",
        _ => "UNKNOWN",
    }
}

fn on_delete_pg(code: &str) -> &'static str {
    match code {
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        "r" => "RESTRICT",
        _ => "NO ACTION",
    }
}

async fn migrated(engine: Engine) -> std::sync::Arc<Sandbox> {
    let sb = Sandbox::new(engine).await;
    let mut app = TestApp::spawn_in(&sb, Opts::new()).await;
    app.stop().await;
    sb
}

async fn sqlite_facts(sb: &Sandbox) -> Facts {
    let file = sb.sqlite_file().unwrap();
    let mut c = SqliteConnectOptions::new()
        .filename(&file)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut c)
    .await
    .unwrap();
    let mut f = Facts::new();
    for t in &tables {
        f.insert(format!("table {t}"));
        let mut pk: Vec<(i64, String)> = Vec::new();
        for r in sqlx::query(&format!("PRAGMA table_info(\"{t}\")"))
            .fetch_all(&mut c)
            .await
            .unwrap()
        {
            let name: String = r.get("name");
            let decl: String = r.get("type");
            let notnull: i64 = r.get("notnull");
            let pk_pos: i64 = r.get("pk");
            if pk_pos > 0 {
                pk.push((pk_pos, name.clone()));
            }
            // A primary key column is NOT NULL on Postgres whatever it says.
            let nullable = notnull == 0 && pk_pos == 0;
            f.insert(format!(
                "column {t}.{name} {} {}",
                sqlite_type_class(&decl),
                if nullable { "NULL" } else { "NOT NULL" }
            ));
        }
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        f.insert(format!("primary key {t}({})", pk.join(",")));
        for r in sqlx::query(&format!("PRAGMA index_list(\"{t}\")"))
            .fetch_all(&mut c)
            .await
            .unwrap()
        {
            let origin: String = r.get("origin");
            if origin == "pk" {
                continue;
            }
            let name: String = r.get("name");
            let unique: i64 = r.get("unique");
            let partial: i64 = r.get("partial");
            let cols: Vec<String> = sqlx::query(&format!("PRAGMA index_info(\"{name}\")"))
                .fetch_all(&mut c)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    r.get::<Option<String>, _>("name")
                        .unwrap_or_else(|| "(expr)".into())
                })
                .collect();
            f.insert(format!(
                "index {t}({}) unique={} partial={}",
                cols.join(","),
                unique == 1,
                partial == 1
            ));
        }
        for r in sqlx::query(&format!("PRAGMA foreign_key_list(\"{t}\")"))
            .fetch_all(&mut c)
            .await
            .unwrap()
        {
            let from: String = r.get("from");
            let table: String = r.get("table");
            let to: Option<String> = r.get("to");
            let on_delete: String = r.get("on_delete");
            f.insert(format!(
                "foreign key {t}.{from} -> {table}.{} on delete {}",
                to.unwrap_or_else(|| "(pk)".into()),
                on_delete.to_ascii_uppercase()
            ));
        }
    }
    f
}

async fn pg_facts(sb: &Sandbox) -> Facts {
    let mut c = PgConnection::connect(&sb.db_url).await.unwrap();
    let mut f = Facts::new();
    for r in sqlx::query(
        "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap()
    {
        f.insert(format!("table {}", r.get::<String, _>("t")));
    }
    for r in sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, is_nullable::text AS n
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut c)
    .await
    .unwrap()
    {
        let n: String = r.get("n");
        f.insert(format!(
            "column {}.{} {} {}",
            r.get::<String, _>("t"),
            r.get::<String, _>("c"),
            pg_type_class(&r.get::<String, _>("ty")),
            if n == "YES" { "NULL" } else { "NOT NULL" }
        ));
    }
    // Index and key columns in their declared order.
    let cols_of = "array_to_string(ARRAY(SELECT COALESCE(a.attname::text, '(expr)') FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n) LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n), ',')";
    for r in sqlx::query(&format!(
        "SELECT t.relname::text AS t, ix.indisprimary AS pk, ix.indisunique AS u, ix.indpred IS NOT NULL AS partial, {cols_of} AS cols
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace
         WHERE ns.nspname = 'public' AND t.relname <> '_sqlx_migrations'"
    ))
    .fetch_all(&mut c)
    .await
    .unwrap()
    {
        let (t, cols): (String, String) = (r.get("t"), r.get("cols"));
        if r.get::<bool, _>("pk") {
            f.insert(format!("primary key {t}({cols})"));
        } else {
            f.insert(format!(
                "index {t}({cols}) unique={} partial={}",
                r.get::<bool, _>("u"),
                r.get::<bool, _>("partial")
            ));
        }
    }
    for r in sqlx::query(
        "SELECT c.conrelid::regclass::text AS t, a.attname::text AS col, c.confrelid::regclass::text AS rt,
                af.attname::text AS rcol, c.confdeltype::text AS del
         FROM pg_constraint c
         JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, fattnum) ON TRUE
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = k.fattnum
         WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace",
    )
    .fetch_all(&mut c)
    .await
    .unwrap()
    {
        f.insert(format!(
            "foreign key {}.{} -> {}.{} on delete {}",
            r.get::<String, _>("t"),
            r.get::<String, _>("col"),
            r.get::<String, _>("rt"),
            r.get::<String, _>("rcol"),
            on_delete_pg(&r.get::<String, _>("del"))
        ));
    }
    f
}

async fn parity() {
    let (lite, pg) = (
        migrated(Engine::Sqlite).await,
        migrated(Engine::Postgres).await,
    );
    let (a, b) = (sqlite_facts(&lite).await, pg_facts(&pg).await);
    assert!(
        a.iter().any(|x| x.starts_with("foreign key")) && a.iter().any(|x| x.starts_with("index")),
        "the introspection found no keys or indexes: {a:#?}"
    );
    let only_lite: Vec<_> = a.difference(&b).collect();
    let only_pg: Vec<_> = b.difference(&a).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "the SQLite and Postgres schemas differ\nonly in SQLite:\n  {}\nonly in Postgres:\n  {}",
        only_lite
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        only_pg
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

crate::postgres_only!(migrations_describe_one_schema => parity);
