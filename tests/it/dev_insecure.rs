//! `ASGARD_DEV_INSECURE`: on a loopback bind, requests to /api
//! without a session act as a synthetic admin — only when the Host is a
//! loopback name, never on /mcp, and never with a non-loopback bind.

use reqwest::Method;

use crate::support::{Engine, Opts, TestApp};

async fn dev_insecure(engine: Engine) {
    let app = TestApp::spawn(
        engine,
        Opts::new().process().env("ASGARD_DEV_INSECURE", "1"),
    )
    .await;
    assert!(
        app.log().contains("ASGARD_DEV_INSECURE"),
        "no loud warning:\n{}",
        app.log()
    );
    app.get("/api/projects", None).await.expect(200);
    let me = app.get("/api/auth/me", None).await;
    me.expect(200);
    assert_eq!(me.json()["dev_insecure"], true);
    // Not for a foreign Host (DNS rebinding), and not for minting credentials.
    app.send(
        Method::GET,
        "/api/projects",
        None,
        &[("host", "evil.example")],
        None,
    )
    .await
    .expect_error(401, "authentication_required");
    app.post("/api/auth/tokens", None, serde_json::json!({"name": "dev"}))
        .await
        .expect_error(403, "forbidden");
    // Never on /mcp.
    let r = app
        .send(Method::POST, "/mcp", None, &[("accept", "application/json, text/event-stream")],
            Some(br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"it","version":"0"}}}"#.to_vec()))
        .await;
    r.expect_error(401, "authentication_required");
    // An explicit session still wins.
    let tok = app.admin_token().await;
    assert_eq!(
        app.get("/api/auth/me", Some(&tok)).await.json()["username"],
        "admin"
    );

    // Bound to all interfaces: ignored, with a warning.
    let wide = TestApp::spawn(
        engine,
        Opts::new()
            .process()
            .env("ASGARD_DEV_INSECURE", "true")
            .bind("0.0.0.0:0"),
    )
    .await;
    assert!(
        wide.log().contains("ignored"),
        "no warning:\n{}",
        wide.log()
    );
    wide.get("/api/projects", None)
        .await
        .expect_error(401, "authentication_required");
}

crate::both_engines!(dev_insecure_only_on_loopback => dev_insecure);
