//! Test support: a fresh, migrated store on either engine, for unit tests
//! that must hold on SQLite and on Postgres alike.

// A skipped Postgres run says so on stderr.
#![allow(clippy::print_stderr)]

use super::Store;

/// A fresh store: a SQLite file, or a new database on `ASGARD_TEST_PG_URL`
/// (`None` when Postgres is not available and `CI` is not set; the caller
/// skips). The closure removes it.
pub async fn fresh_store(postgres: bool) -> Option<(Store, Box<dyn FnOnce() + Send>)> {
    use sqlx::Connection;
    if !postgres {
        let dir = std::env::temp_dir().join(format!(
            "asgard-store-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::connect(
            &format!("sqlite://{}/t.db", dir.display()),
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
        return Some((store, Box::new(move || drop(std::fs::remove_dir_all(dir)))));
    }
    let Some(base) = std::env::var("ASGARD_TEST_PG_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
    else {
        // Under CI a missing Postgres is a failure, never a silent pass.
        assert!(
            !std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0"),
            "CI is set but ASGARD_TEST_PG_URL is not: the Postgres run cannot be skipped"
        );
        eprintln!("note: ASGARD_TEST_PG_URL is not set; skipping the Postgres run");
        return None;
    };
    let name = format!("t_store_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .unwrap();
    let _ = c.close().await;
    let head = base
        .split('?')
        .next()
        .unwrap()
        .rsplit_once('/')
        .unwrap()
        .0
        .to_string();
    let store = Store::connect(&format!("{head}/{name}"), std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let cleanup = move || {
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&base).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    };
    Some((store, Box::new(cleanup)))
}
