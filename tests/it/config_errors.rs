//! Refused boots: an invalid `asgard.yaml` names
//! the offending key path; an invalid ASGARD_SECRET_KEY names the variable;
//! a database created under another key is refused; Postgres without a key
//! is refused; a second process on one SQLite file is refused. Each exits
//! non-zero, without a panic, and writes nothing.

use std::sync::Arc;

use crate::support::{Engine, Fails, KEY_A, KEY_B, Opts, Sandbox, TestApp, db};

fn clean_refusal(
    status: std::process::ExitStatus,
    out: &str,
    needles: &[&str],
) -> Result<(), String> {
    if status.success() || status.code().is_none() {
        return Err(format!(
            "exit status {status:?} should be a non-zero exit code:\n{out}"
        ));
    }
    for n in needles {
        if !out.contains(n) {
            return Err(format!("the refusal should mention `{n}`:\n{out}"));
        }
    }
    if out.contains("panicked") {
        return Err(format!("the binary panicked:\n{out}"));
    }
    Ok(())
}

#[track_caller]
fn assert_clean_refusal(status: std::process::ExitStatus, out: &str, needles: &[&str]) {
    if let Err(m) = clean_refusal(status, out, needles) {
        panic!("{m}");
    }
}

/// Boot expecting a refusal; checks it names `needles`.
async fn refused(sb: &Arc<Sandbox>, opts: Opts, needles: &[&str]) -> Result<String, String> {
    match TestApp::try_spawn_in(sb, opts).await {
        Ok(app) => Err(format!("booted on {} but should have refused", app.addr)),
        Err(f) => match f.status {
            Some(st) => clean_refusal(st, &f.output, needles).map(|_| f.output),
            None => Err(format!("neither booted nor exited: {}", f.output)),
        },
    }
}

/// Nothing was created: no SQLite file, no Postgres tables.
async fn assert_untouched(sb: &Arc<Sandbox>) {
    match sb.engine {
        Engine::Sqlite => {
            let f = sb.sqlite_file().unwrap();
            assert!(!f.exists(), "{} was created by a refused boot", f.display());
        }
        Engine::Postgres => {
            let t = db::dump_tables(sb).await;
            assert!(
                t.is_empty(),
                "a refused boot created tables: {:?}",
                t.keys()
            );
        }
    }
}

async fn bad_config(engine: Engine) {
    let sb = Sandbox::new(engine).await;
    let yaml_cases: &[(&str, &[&str])] = &[
        ("grups: []\n", &["grups"]),
        (
            "groups:\n  - { key: platform, display_name: Platform, colour: red }\n",
            &["groups[0]", "colour"],
        ),
        (
            "review: { poc_window_days: soon }\n",
            &["review.poc_window_days"],
        ),
        ("lease_ttl_secs: abc\n", &["lease_ttl_secs"]),
        ("lease_ttl_secs: 1\n", &["lease_ttl_secs"]),
        (
            "groups:\n  - { key: Bad Key, display_name: X }\n",
            &["groups[0].key"],
        ),
        ("groups: platform\n", &["groups"]),
        (
            "registration: { require_manager: maybe }\n",
            &["registration.require_manager"],
        ),
        (
            "provisioning:\n  terraform: { max_concurrent: 0 }\n",
            &["provisioning.terraform.max_concurrent"],
        ),
        (
            "classification_requirements: { light-operational: [shoe_size] }\n",
            &[
                "classification_requirements.light-operational[0]",
                "shoe_size",
            ],
        ),
        ("groups: [\n", &["asgard-"]),
    ];
    let mut f = Fails::default();
    for (yaml, needles) in yaml_cases {
        let r = refused(&sb, Opts::new().process().yaml(yaml), needles).await;
        f.check(r.map_err(|e| format!("asgard.yaml {yaml:?}: {e}")));
    }

    let env_cases: &[(&str, &str)] = &[
        ("ASGARD_SECRET_KEY", "abc"),
        ("ASGARD_SECRET_KEY", &"g".repeat(64)),
        ("ASGARD_SECRET_KEY", &"a".repeat(63)),
        ("ASGARD_SECRET_KEY", &"a".repeat(65)),
        ("ASGARD_SECRET_KEY", &format!("{} ", "a".repeat(62))),
        ("ASGARD_DATABASE_URL", "mysql://localhost/asgard"),
        ("ASGARD_DEV_INSECURE", "maybe"),
        ("ASGARD_LOG_FORMAT", "xml"),
        ("ASGARD_TRUSTED_PROXIES", "10.0.0.0/99"),
        ("ASGARD_ADMIN_PASSWORD", "short"),
        ("ASGARD_PUBLIC_URL", "asgard.example.com"),
    ];
    for (var, value) in env_cases {
        match refused(&sb, Opts::new().process().env(var, value), &[var]).await {
            Ok(out)
                if *var == "ASGARD_SECRET_KEY"
                    && value.len() > 60
                    && out.contains(value.trim()) =>
            {
                f.push(format!("the refusal echoes the key value:\n{out}"));
            }
            Ok(_) => {}
            Err(e) => f.push(format!("{var}={value:?}: {e}")),
        }
    }
    // A config file given explicitly must exist.
    let r = refused(
        &sb,
        Opts::new()
            .process()
            .config_file("/nonexistent/asgard.yaml"),
        &["/nonexistent/asgard.yaml"],
    )
    .await;
    f.check(r.map_err(|e| format!("missing config file: {e}")));
    f.assert_none("refused boots");
    assert_untouched(&sb).await;
}

async fn another_key(engine: Engine) {
    let sb = Sandbox::new(engine).await;
    let pw = "first-boot-password-1";
    let mut app = TestApp::spawn_in(
        &sb,
        Opts::new()
            .process()
            .env("ASGARD_SECRET_KEY", KEY_A)
            .admin_password(pw),
    )
    .await;
    let tok = app.admin_token().await;
    let pid = app.register_named(&tok, "Keyed").await;
    app.stop().await;
    let (before, _) = db::snapshot(&sb).await;

    let (st, out) = TestApp::expect_refused(
        &sb,
        Opts::new()
            .process()
            .env("ASGARD_SECRET_KEY", KEY_B)
            .admin_password(pw),
    )
    .await;
    assert_clean_refusal(st, &out, &["ASGARD_SECRET_KEY", "another key"]);
    assert!(
        !out.contains(KEY_A) && !out.contains(KEY_B),
        "a key was printed:\n{out}"
    );
    let (after, _) = db::snapshot(&sb).await;
    assert_eq!(before, after, "the refused boot changed the database");

    // The right key still works, and the data is there.
    let app = TestApp::spawn_in(
        &sb,
        Opts::new()
            .process()
            .env("ASGARD_SECRET_KEY", KEY_A)
            .admin_password(pw),
    )
    .await;
    let tok = app.admin_token().await;
    app.get(&format!("/api/projects/{pid}"), Some(&tok))
        .await
        .expect(200);
}

async fn postgres_needs_a_key() {
    let sb = Sandbox::new(Engine::Postgres).await;
    let (st, out) =
        TestApp::expect_refused(&sb, Opts::new().process().unset("ASGARD_SECRET_KEY")).await;
    assert_clean_refusal(st, &out, &["ASGARD_SECRET_KEY"]);
    assert_untouched(&sb).await;
}

/// SQLite without a key: a key file is generated once beside the database
/// (mode 0600); the next boot reuses it; a different explicit key is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_key_file_and_single_process() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new(Engine::Sqlite).await;
    let app = TestApp::spawn_in(&sb, Opts::new().process()).await;
    let key_file = sb.dir.join("data").join("asgard.db.key");
    let meta = std::fs::metadata(&key_file).expect("the generated key file");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600, "key file mode");
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(
        !app.log().contains(key.trim()),
        "the generated key was logged"
    );

    // A second process on the same SQLite file is refused while the first runs.
    let (st, out) = TestApp::expect_refused(&sb, Opts::new().process()).await;
    assert_clean_refusal(st, &out, &["another Asgard process"]);
    let pw = app.admin_password.clone();
    drop(app);

    let (st, out) =
        TestApp::expect_refused(&sb, Opts::new().process().env("ASGARD_SECRET_KEY", KEY_B)).await;
    assert_clean_refusal(st, &out, &["another key"]);
    let mut app = TestApp::spawn_in(&sb, Opts::new().process()).await;
    assert!(
        !app.admin_password_generated,
        "a second `password:` line on reboot"
    );
    app.admin_password = pw;
    app.admin_token().await;
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        key,
        "key file rewritten"
    );
}

crate::both_engines!(
    invalid_config_refuses_boot => bad_config,
    database_of_another_key_is_refused => another_key,
);
crate::postgres_only!(postgres_without_a_key_is_refused => postgres_needs_a_key);
