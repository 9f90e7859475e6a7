//! `GET /metrics`: Prometheus text with request counts and
//! latencies by route template, the leader leases this replica holds;
//! open on loopback, otherwise only for an admin or auditor token, or for
//! everyone with `ASGARD_METRICS_PUBLIC=1`. A request that carries
//! `X-Forwarded-For` came through a proxy and is not treated as loopback.

use reqwest::Method;

use crate::support::{Engine, Opts, TestApp};

/// The value of the first sample line that starts with `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn metrics(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let admin = app.admin_token().await;
    let pid = app.register_named(&admin, "Metrics").await;
    for _ in 0..3 {
        app.get(&format!("/api/projects/{pid}"), Some(&admin))
            .await
            .expect(200);
    }
    app.get("/api/projects", None).await.expect(401);
    app.get("/no/such/page", None).await;

    let m = app.get("/metrics", None).await;
    m.expect(200);
    assert!(
        m.header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text")),
        "{:?}",
        m.header("content-type")
    );
    let t = &m.text;
    // By route template, never by raw path (bounded label values).
    let by_id =
        r#"asgard_http_requests_total{method="GET",route="/api/projects/{id}",status="200"}"#;
    assert_eq!(sample(t, by_id), Some(3.0), "{t}");
    assert!(!t.contains(&pid), "a raw path became a label:\n{t}");
    assert!(!t.contains("/no/such/page"), "{t}");
    // Answered before routing (401) or by no route: one bounded label.
    assert!(
        sample(
            t,
            r#"asgard_http_requests_total{method="GET",route="(unmatched)",status="401"}"#
        )
        .is_some_and(|v| v >= 1.0),
        "{t}"
    );
    assert!(
        sample(
            t,
            r#"asgard_http_request_duration_seconds_count{method="GET",route="/api/projects/{id}"}"#
        ) == Some(3.0),
        "{t}"
    );
    assert!(t.contains("asgard_build_info{version="), "{t}");
    assert!(t.trim_end().ends_with("# EOF"), "{t}");
    // The background loops take their leases a moment after boot.
    let mut leader = None;
    for _ in 0..50 {
        let t = app.get("/metrics", None).await.text;
        leader = sample(&t, r#"asgard_leader{loop="reconcile-runs"}"#);
        if leader == Some(1.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        leader,
        Some(1.0),
        "the only replica holds the reconcile-runs lease"
    );
    // No secret material in the exposition.
    let t = app.get("/metrics", None).await.text;
    assert!(!t.contains(&admin), "a session token in /metrics");

    // Through a proxy: not loopback any more.
    let proxied = [("x-forwarded-for", "203.0.113.9")];
    app.send(Method::GET, "/metrics", None, &proxied, None)
        .await
        .expect_error(401, "authentication_required");
    for other in [
        ("x-real-ip", "203.0.113.9"),
        ("forwarded", "for=203.0.113.9"),
        // A page on this host whose domain was rebound to 127.0.0.1.
        ("host", "evil.example"),
    ] {
        app.send(Method::GET, "/metrics", None, &[other], None)
            .await
            .expect_error(401, "authentication_required");
    }
    app.create_user(
        &admin,
        "metrics-member",
        "mm@corp.example",
        "Member-pass-12345",
        "member",
    )
    .await;
    let member_tok = app.login("metrics-member", "Member-pass-12345").await;
    app.send(Method::GET, "/metrics", Some(&member_tok), &proxied, None)
        .await
        .expect_error(403, "forbidden");
    app.send(Method::GET, "/metrics", Some(&admin), &proxied, None)
        .await
        .expect(200);
    app.send(
        Method::GET,
        "/metrics",
        Some("asg_pat_not-a-real-token"),
        &proxied,
        None,
    )
    .await
    .expect_error(401, "authentication_required");

    // ASGARD_METRICS_PUBLIC=1: open to anyone.
    let open = TestApp::spawn(engine, Opts::new().env("ASGARD_METRICS_PUBLIC", "1")).await;
    open.get("/healthz", None).await.expect(200);
    let r = open
        .send(Method::GET, "/metrics", None, &proxied, None)
        .await;
    r.expect(200);
    assert_eq!(
        sample(
            &r.text,
            r#"asgard_http_requests_total{method="GET",route="/healthz",status="200"}"#
        ),
        Some(1.0),
        "{}",
        r.text
    );
}

crate::both_engines!(metrics_by_route_with_access_rules => metrics);
