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

/// A fresh store on either engine (see `store::test_support`).
async fn fresh_store(postgres: bool) -> Option<(Store, Box<dyn FnOnce() + Send>)> {
    crate::store::test_support::fresh_store(postgres).await
}

async fn exec(store: &Store, sql: &str, arg: &str) {
    on_pool!(store.write(), |p| sqlx::query(sql)
        .bind(arg)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
    .unwrap();
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
async fn sign_in_sqlite() {
    sign_in_creates_links_and_refreshes(false).await;
}

#[tokio::test]
async fn sign_in_postgres() {
    sign_in_creates_links_and_refreshes(true).await;
}

async fn sign_in_creates_links_and_refreshes(postgres: bool) {
    let Some((store, cleanup)) = fresh_store(postgres).await else {
        return;
    };
    users::ensure_bootstrap_admin(&store, "admin", Some("correct-horse-battery"))
        .await
        .unwrap();
    exec(
        &store,
        "UPDATE users SET email = $1 WHERE username = 'admin'",
        "admin@corp.example",
    )
    .await;
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

    // leaving the admin group removes the role (another active admin remains)
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
    exec(
        &store,
        "UPDATE users SET active = FALSE WHERE id = $1",
        &a.id,
    )
    .await;
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
    cleanup();
}

#[tokio::test]
async fn pending_sqlite() {
    pending_sign_ins_are_single_use(false).await;
}

#[tokio::test]
async fn pending_postgres() {
    pending_sign_ins_are_single_use(true).await;
}

async fn pending_sign_ins_are_single_use(postgres: bool) {
    use super::super::{Oidc, discovery, flow};
    let Some((store, cleanup)) = fresh_store(postgres).await else {
        return;
    };
    let cfg = crate::config::OidcConfig {
        issuer: "http://127.0.0.1:9".into(),
        client_id: "asgard".into(),
        client_secret: crate::config::Secret::new("s"),
        redirect_uri: "http://127.0.0.1:1/api/auth/oidc/callback".into(),
        scopes: vec!["openid".into(), "email".into()],
        admin_groups: vec![],
        groups_claim: "groups".into(),
    };
    let oidc = Oidc::start(cfg, &crate::secrets::MasterKey::generate()).unwrap();
    let provider = discovery::parse_metadata(
        "https://idp.example",
        br#"{"issuer":"https://idp.example","authorization_endpoint":"https://idp.example/auth?tenant=t","token_endpoint":"https://idp.example/token","jwks_uri":"https://idp.example/jwks"}"#,
    )
    .unwrap();
    let url = flow::begin(&oidc, &store, &provider, "browser-1", "/projects")
        .await
        .unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["tenant"], "t", "the endpoint's own query is kept");
    assert_eq!(
        (
            q["response_type"].as_str(),
            q["code_challenge_method"].as_str()
        ),
        ("code", "S256")
    );
    assert_eq!(q["scope"], "openid email");
    let p = flow::take(&oidc, &store, &q["state"])
        .await
        .unwrap()
        .expect("pending sign-in");
    assert_eq!(
        (p.nonce.as_str(), p.return_to.as_str()),
        (q["nonce"].as_str(), "/projects")
    );
    assert_eq!(flow::challenge(&p.verifier), q["code_challenge"]);
    assert!(flow::check(&p, Some("browser-1"), chrono::Utc::now()).is_ok());
    assert!(
        flow::take(&oidc, &store, &q["state"])
            .await
            .unwrap()
            .is_none(),
        "single use"
    );
    assert!(
        flow::take(&oidc, &store, "made-up")
            .await
            .unwrap()
            .is_none()
    );
    let left: i64 = on_pool!(store.read(), |p| sqlx::query_scalar(
        "SELECT COUNT(*) FROM oidc_logins"
    )
    .fetch_one(p)
    .await)
    .unwrap();
    assert_eq!(left, 0);
    store.close().await;
    cleanup();
}
