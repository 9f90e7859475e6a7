use super::*;

fn account(id: &str) -> Account {
    Account {
        id: id.into(),
        username: id.into(),
        email: Some(format!("{id}@corp.example")),
        display_name: None,
        role: "member".into(),
        active: true,
        is_bootstrap: false,
        oidc_subject: None,
    }
}

#[test]
fn linking_rules() {
    assert!(matches!(plan(None, None).unwrap(), Plan::Create));
    assert!(matches!(
        plan(Some(account("a")), None).unwrap(),
        Plan::Existing(_)
    ));
    assert!(matches!(
        plan(None, Some(account("b"))).unwrap(),
        Plan::Link(_)
    ));

    let boot = Account {
        is_bootstrap: true,
        role: "admin".into(),
        ..account("admin")
    };
    assert_eq!(
        plan(None, Some(boot)).unwrap_err().reason,
        Reason::LinkRefused
    );

    let taken = Account {
        oidc_subject: Some("other".into()),
        ..account("c")
    };
    assert_eq!(
        plan(None, Some(taken)).unwrap_err().reason,
        Reason::LinkRefused
    );

    let off = Account {
        active: false,
        ..account("d")
    };
    assert_eq!(
        plan(Some(off.clone()), None).unwrap_err().reason,
        Reason::AccountDisabled
    );
    assert_eq!(
        plan(None, Some(off)).unwrap_err().reason,
        Reason::AccountDisabled
    );
}

#[test]
fn group_mapping() {
    let admins = vec!["asgard-admins".to_string()];
    let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        mapped_role(Role::Member, Some(&g(&["asgard-admins"])), &admins),
        Role::Admin
    );
    assert_eq!(
        mapped_role(Role::Admin, Some(&g(&["staff"])), &admins),
        Role::Member
    );
    assert_eq!(mapped_role(Role::Admin, None, &admins), Role::Member);
    assert_eq!(
        mapped_role(Role::Auditor, Some(&g(&["staff"])), &admins),
        Role::Auditor
    );
    // no mapping configured: roles are managed in Asgard only
    assert_eq!(mapped_role(Role::Admin, None, &[]), Role::Admin);
    assert_eq!(
        mapped_role(Role::Member, Some(&g(&["asgard-admins"])), &[]),
        Role::Member
    );
}

#[test]
fn usernames() {
    let p = |pu: Option<&str>, email: Option<&str>| Profile {
        preferred_username: pu.map(str::to_string),
        email: email.map(str::to_string),
        ..Profile::default()
    };
    assert_eq!(base_username(&p(Some("Alice.Smith"), None)), "alice.smith");
    assert_eq!(base_username(&p(None, Some("bob@corp.example"))), "bob");
    assert_eq!(
        base_username(&p(Some("Ünïcode Name!"), None)),
        "n-code-name"
    );
    assert_eq!(base_username(&p(Some("---"), None)), "user");
    assert_eq!(base_username(&p(None, None)), "user");
    assert!(users::valid_username(&base_username(&p(
        Some(&"x".repeat(300)),
        None
    ))));
}

async fn temp_store() -> (Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "asgard-oidc-test-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/t.db", dir.display());
    let store = Store::connect(&url, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    (store, dir)
}

fn profile(sub: &str, email: Option<&str>, groups: Option<&[&str]>) -> Profile {
    Profile {
        sub: sub.into(),
        email: email.map(str::to_string),
        name: Some(format!("Name {sub}")),
        groups: groups.map(|g| g.iter().map(|s| s.to_string()).collect()),
        ..Profile::default()
    }
}

#[tokio::test]
async fn sign_in_creates_links_and_refreshes() {
    let (store, dir) = temp_store().await;
    users::ensure_bootstrap_admin(&store, "admin", Some("correct-horse-battery"))
        .await
        .unwrap();
    sqlx::query("UPDATE users SET email = 'admin@corp.example' WHERE username = 'admin'")
        .execute(match store.write() {
            crate::store::PoolRef::Sqlite(p) => p,
            crate::store::PoolRef::Pg(_) => unreachable!(),
        })
        .await
        .unwrap();
    let iss = "https://idp.example";
    let admins = vec!["asgard-admins".to_string()];

    // first sign-in creates a member; the second finds the same account
    let a = sign_in(
        &store,
        iss,
        &profile("s-alice", Some("alice@corp.example"), None),
        &admins,
    )
    .await
    .unwrap();
    assert_eq!((a.role.as_str(), a.username.as_str()), ("member", "alice"));
    assert!(a.password_hash.is_none());
    let a2 = sign_in(
        &store,
        iss,
        &profile(
            "s-alice",
            Some("alice@corp.example"),
            Some(&["asgard-admins"]),
        ),
        &admins,
    )
    .await
    .unwrap();
    assert_eq!(a2.id, a.id);
    assert_eq!(a2.role, "admin", "group mapping refreshed at sign-in");

    // another subject with the same verified email: the account is already linked
    let e = sign_in(
        &store,
        iss,
        &profile("s-other", Some("alice@corp.example"), None),
        &admins,
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::LinkRefused);

    // the bootstrap admin is never linked by email
    let e = sign_in(
        &store,
        iss,
        &profile("s-adm", Some("admin@corp.example"), None),
        &admins,
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::LinkRefused);

    // no verified email: a new member, username made unique
    let b = sign_in(
        &store,
        iss,
        &Profile {
            preferred_username: Some("alice".into()),
            ..profile("s-b", None, None)
        },
        &admins,
    )
    .await
    .unwrap();
    assert_eq!((b.username.as_str(), b.email.as_deref()), ("alice-2", None));

    // demoting the only other admin is fine; the last active admin keeps the role
    let a3 = sign_in(
        &store,
        iss,
        &profile("s-alice", Some("alice@corp.example"), Some(&[])),
        &admins,
    )
    .await
    .unwrap();
    assert_eq!(a3.role, "member");

    // a disabled account is refused
    sqlx::query("UPDATE users SET active = FALSE WHERE id = $1")
        .bind(&a.id)
        .execute(match store.write() {
            crate::store::PoolRef::Sqlite(p) => p,
            crate::store::PoolRef::Pg(_) => unreachable!(),
        })
        .await
        .unwrap();
    let e = sign_in(
        &store,
        iss,
        &profile("s-alice", Some("alice@corp.example"), None),
        &admins,
    )
    .await
    .unwrap_err();
    assert_eq!(e.reason, Reason::AccountDisabled);

    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
