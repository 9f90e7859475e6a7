//! HTTP conventions: the same-origin rule for cookie-authenticated
//! writes, no permissive CORS, security headers on every response, request
//! ids (generated, or accepted when safe, and echoed in error envelopes).

use reqwest::Method;

use crate::support::{Engine, Opts, TestApp, db};

async fn same_origin(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new().process()).await;
    let tok = app.admin_token().await;
    let cookie = format!("asgard_session={tok}");
    let ck = ("cookie", cookie.as_str());
    let body = || Some(br#"{"name":"via-cookie"}"#.to_vec());

    app.send(Method::GET, "/api/auth/me", None, &[ck], None)
        .await
        .expect(200);
    let before = db::row_counts(&app.sandbox).await;
    for hdrs in [
        vec![ck, ("origin", "http://evil.example")],
        vec![ck, ("origin", "null")],
        vec![ck, ("origin", "http://127.0.0.1:1")],
        vec![ck, ("sec-fetch-site", "cross-site")],
        vec![ck, ("sec-fetch-site", "same-site")],
    ] {
        app.send(Method::POST, "/api/auth/tokens", None, &hdrs, body())
            .await
            .expect_error(403, "cross_origin_refused");
    }
    app.send(
        Method::DELETE,
        "/api/auth/tokens/x",
        None,
        &[ck, ("origin", "http://evil.example")],
        None,
    )
    .await
    .expect_error(403, "cross_origin_refused");
    assert_eq!(
        before,
        db::row_counts(&app.sandbox).await,
        "a refused request wrote"
    );

    // No Origin (a non-browser client), our own origin, or a Bearer token: allowed.
    app.send(Method::POST, "/api/auth/tokens", None, &[ck], body())
        .await
        .expect(201);
    let own = app.origin();
    app.send(
        Method::POST,
        "/api/auth/tokens",
        None,
        &[ck, ("origin", &own), ("sec-fetch-site", "same-origin")],
        body(),
    )
    .await
    .expect(201);
    app.send(
        Method::POST,
        "/api/auth/tokens",
        Some(&tok),
        &[("origin", "http://evil.example")],
        body(),
    )
    .await
    .expect(201);

    // No permissive CORS.
    let r = app
        .send(
            Method::OPTIONS,
            "/api/projects",
            None,
            &[
                ("origin", "http://evil.example"),
                ("access-control-request-method", "POST"),
            ],
            None,
        )
        .await;
    assert!(
        r.header("access-control-allow-origin").is_none(),
        "CORS allowed: {:?}",
        r.headers
    );
    app.leak_scan(&[]).await;
}

async fn headers(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let tok = app.admin_token().await;
    let mut seen = Vec::new();
    for (path, t) in [
        ("/healthz", None),
        ("/readyz", None),
        ("/", None),
        ("/api/auth/config", None),
        ("/api/projects", None),
        ("/api/projects", Some(tok.as_str())),
        ("/api/nope", Some(tok.as_str())),
    ] {
        let r = app.get(path, t).await;
        for (h, v) in [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
            ("x-frame-options", "DENY"),
        ] {
            assert_eq!(r.header(h).as_deref(), Some(v), "{path}: {h}");
        }
        let id = r.header("x-request-id").unwrap_or_default();
        assert!(
            !id.is_empty() && id.len() <= 64,
            "{path}: x-request-id {id:?}"
        );
        if r.status >= 400 {
            assert_eq!(
                r.json()["error"]["request_id"],
                id.as_str(),
                "{path}: envelope request_id"
            );
        }
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "request ids repeat");

    let r = app.get("/", None).await;
    assert!(
        r.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    let csp = r.header("content-security-policy").expect("CSP on HTML");
    assert!(
        csp.contains("default-src") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));

    // An incoming id is kept when safe, replaced when not.
    let r = app
        .send(
            Method::GET,
            "/healthz",
            None,
            &[("x-request-id", "trace-abc_1.2")],
            None,
        )
        .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("trace-abc_1.2"));
    for bad in ["<script>", "a b", &"x".repeat(200)] {
        let r = app
            .send(
                Method::GET,
                "/healthz",
                None,
                &[("x-request-id", bad)],
                None,
            )
            .await;
        let id = r.header("x-request-id").unwrap_or_default();
        assert!(
            !id.is_empty() && id != bad,
            "unsafe request id echoed: {id:?}"
        );
    }
    // The default system name.
    assert_eq!(
        app.get("/api/auth/config", None).await.json()["system_name"],
        "Asgard"
    );
}

crate::both_engines!(
    cookie_writes_must_be_same_origin => same_origin,
    security_headers_and_request_ids => headers,
);
