//! Every human route answers 401 without a session, found by walking the
//! real route table (`asgard::http::route_table()`), not a hand list, for
//! every method, including wrong ones (401 before 405), and for unknown
//! `/api` paths (401 before 404). Which routes are public comes from the
//! router too (`.public()` at registration), and each one is tried without
//! a credential.

use reqwest::Method;

use crate::support::{Engine, Fails, Opts, Resp, TestApp};

/// Whether the router registered this route as public (its own table, the
/// one the authentication middleware reads).
fn is_public(method: &str, template: &str) -> bool {
    asgard::http::public_routes()
        .iter()
        .any(|(m, t)| m == method && t == template)
}

/// Replace every `{param}` with a dummy value.
fn concrete(template: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in template.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("x-dummy-1");
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn check_401(r: &Resp) -> Result<(), String> {
    r.check_error(401, "authentication_required")?;
    let wa = r.header("www-authenticate").unwrap_or_default();
    if !wa.starts_with("Bearer") {
        return Err(format!(
            "{} {}: www-authenticate is {wa:?}",
            r.method, r.path
        ));
    }
    Ok(())
}

async fn walk(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let mut f = Fails::default();
    let table = asgard::http::route_table();
    assert!(
        table.len() >= 15,
        "suspiciously small route table: {table:?}"
    );
    let mut paths: Vec<String> = Vec::new();
    let mut checked = 0;
    for (method, template) in &table {
        assert!(template.starts_with("/api/"), "{template}");
        if is_public(method, template) {
            continue;
        }
        let path = concrete(template);
        let m: Method = method.parse().unwrap();
        let body = matches!(m, Method::POST | Method::PATCH).then(|| b"{}".to_vec());
        // No credential at all.
        f.check(check_401(
            &app.send(m.clone(), &path, None, &[], body.clone()).await,
        ));
        // A malformed, an unknown and a wrong-kind bearer token.
        for tok in [
            "garbage",
            &format!("asg_sess_{}", "0".repeat(64)),
            &format!("asg_pat_{}", "1".repeat(64)),
            &format!("asg_{}", "2".repeat(64)), // a project key is not a human credential
        ] {
            f.check(check_401(
                &app.send(m.clone(), &path, Some(tok), &[], body.clone())
                    .await,
            ));
        }
        // An unknown session cookie.
        let cookie = format!("asgard_session=asg_sess_{}", "3".repeat(64));
        let r = app
            .send(m.clone(), &path, None, &[("cookie", &cookie)], body.clone())
            .await;
        f.check(check_401(&r));
        checked += 1;
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    assert!(checked >= 15, "only {checked} routes checked");

    // Wrong methods: 401 before 405.
    for path in &paths {
        for m in [
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::POST,
            Method::GET,
        ] {
            let registered = table
                .iter()
                .any(|(tm, tp)| concrete(tp) == *path && tm == m.as_str());
            if !registered {
                f.check(check_401(&app.send(m, path, None, &[], None).await));
            }
        }
    }
    // A wrong method on a public route is refused either way, as JSON.
    let r = app
        .send(Method::PUT, "/api/auth/config", None, &[], None)
        .await;
    assert!(matches!(r.status, 401 | 405), "{}", r.status);
    r.json();

    // Unknown /api paths: 401 without credentials, JSON 404 with them.
    let tok = app.admin_token().await;
    for path in [
        "/api",
        "/api/",
        "/api/nope",
        "/api/projects/x/nope/deeper",
        "/api/auth/nope",
    ] {
        f.check(check_401(&app.get(path, None).await));
        f.check(check_401(
            &app.send(Method::PUT, path, None, &[], None).await,
        ));
        f.check(
            app.get(path, Some(&tok))
                .await
                .check_error(404, "not_found"),
        );
    }

    // With a session, a wrong method on a real route is a JSON 405.
    for path in ["/api/projects", "/api/auth/me", "/api/users"] {
        let r = app.send(Method::PUT, path, Some(&tok), &[], None).await;
        f.check(r.check_error(405, "method_not_allowed"));
    }

    // Paths outside /api are not MCP's business either.
    for path in ["/nope", "/api-nope", "/mcp/extra"] {
        let r = app.get(path, Some(&tok)).await;
        if r.status != 404 {
            f.push(format!(
                "GET {path} with a session: expected 404, got {} {}",
                r.status, r.text
            ));
        }
    }
    f.assert_none("route walk");

    // The public routes really are public: none answers 401 without a
    // credential (and the sign-in routes are among them).
    let public = asgard::http::public_routes();
    for want in [
        "/api/auth/login",
        "/api/auth/config",
        "/api/auth/oidc/login",
    ] {
        assert!(
            public.iter().any(|(_, t)| t == want),
            "{want} is not registered public: {public:?}"
        );
    }
    for (method, template) in &public {
        let m: Method = method.parse().unwrap();
        let body = matches!(m, Method::POST).then(|| b"{}".to_vec());
        let r = app.send(m, template, None, &[], body).await;
        assert_ne!(r.status, 401, "{method} {template}: {}", r.text);
    }
    app.get("/api/auth/config", None).await.expect(200);
    app.post(
        "/api/auth/login",
        None,
        serde_json::json!({"username": "nobody", "password": "wrong password"}),
    )
    .await
    .expect_error(401, "invalid_credentials");
}

crate::both_engines!(every_route_requires_a_session => walk);
