//! Bad input on every endpoint, found from the route table:
//! malformed JSON → 400 invalid_json; unknown fields and non-object bodies →
//! 422 invalid_request naming the field; a non-JSON media type → 415; bad
//! query parameters → 422; a body over 1 MiB → 413; never a 5xx; nothing is
//! written. Field-by-field cases per endpoint are in `bad_fields.rs`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Engine, Fails, Opts, TestApp, db};

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// A concrete path for a route template: `{id}` is the real project (or
/// user) id, any other parameter a dummy.
fn fill(template: &str, pid: &str, user: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').map(|j| i + j).unwrap_or(rest.len() - 1);
        let name = &rest[i + 1..j];
        out.push_str(match name {
            "id" if template.starts_with("/api/users") => user,
            "id" if template.starts_with("/api/projects") => pid,
            _ => "x-dummy-1",
        });
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

async fn bad_input(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let tok = app.admin_token().await;
    let pid = app.register_named(&tok, "Existing").await;
    let member = app
        .create_user(
            &tok,
            "mia",
            "mia@corp.example",
            "mia-password-123",
            "member",
        )
        .await;
    let table = asgard::http::route_table();
    let before = db::snapshot(&app.sandbox).await;
    let mut f = Fails::default();

    // Every body-taking route, found from the route table.
    let body_routes: Vec<(Method, String)> = table
        .iter()
        // Logout takes no body; the gateway forwards bodies it does not own.
        .filter(|(m, p)| {
            (m == "POST" || m == "PATCH")
                && p != "/api/auth/logout"
                && !p.starts_with("/api/gateway/")
        })
        .map(|(m, p)| (m.parse().unwrap(), fill(p, &pid, &member)))
        .collect();
    assert!(body_routes.len() >= 10, "{body_routes:?}");
    for (m, path) in &body_routes {
        for bad in [
            &b"{"[..],
            b"{\"name\":",
            b"not json",
            b"{\"a\":1,}",
            b"\xff\xfe",
            b"{}{}",
        ] {
            f.check(
                app.send(m.clone(), path, Some(&tok), &[], Some(bad.to_vec()))
                    .await
                    .check_error(400, "invalid_json"),
            );
        }
        // Unknown fields are refused by name.
        f.check(
            app.req(m.clone(), path, Some(&tok), Some(json!({"bogus_field": 1})))
                .await
                .check_invalid("bogus_field"),
        );
        // Not an object: a string, a number, null, an array of numbers
        // (arrays of plausible values are checked in `arrays_are_not_objects`).
        for v in [json!("Pilot"), json!(7), Value::Null, json!([1, 2])] {
            let r = app.req(m.clone(), path, Some(&tok), Some(v.clone())).await;
            match r.check_error(422, "invalid_request") {
                Ok(e) if !e["field"].is_string() => {
                    f.push(format!("{m} {path} {v}: no field: {}", r.text));
                }
                Ok(_) => {}
                Err(e) => f.push(format!("{e} (body {v})")),
            }
        }
        // A JSON body in another media type.
        f.check(
            app.send(
                m.clone(),
                path,
                Some(&tok),
                &[("content-type", "text/plain")],
                Some(b"{\"a\":1}".to_vec()),
            )
            .await
            .check_error(415, "unsupported_media_type"),
        );
    }

    // Query parameters.
    for (path, field) in [
        ("/api/projects?limit=0", "limit"),
        ("/api/projects?limit=abc", "limit"),
        ("/api/projects?limit=501", "limit"),
        ("/api/audit?since=yesterday", "since"),
        ("/api/audit?until=2026-13-01", "until"),
        ("/api/audit?cursor=abc", "cursor"),
    ] {
        f.check(app.get(path, Some(&tok)).await.check_invalid(field));
    }
    let q = format!("/api/projects?q={}&group={}", long(5000), long(5000));
    app.get(&q, Some(&tok)).await.expect(200);

    // Bodies over 1 MiB.
    let big = format!("{{\"name\":\"{}\"}}", long(1024 * 1024 + 10));
    for path in ["/api/projects", "/api/auth/login"] {
        f.check(
            app.send(
                Method::POST,
                path,
                Some(&tok),
                &[],
                Some(big.clone().into_bytes()),
            )
            .await
            .check_error(413, "payload_too_large"),
        );
    }

    // Nothing was written by any of it.
    let after = db::snapshot(&app.sandbox).await;
    f.0.extend(db::changes(&before, &after));
    // And the server is still fine.
    app.get("/readyz", None).await.expect(200);
    f.assert_none("bad input");
}

/// A JSON array is not an object: serde's derived structs accept a sequence
/// positionally (`["name"]` as `{"name": ...}`), which must not slip through
/// as a valid body and write something.
async fn arrays(engine: Engine) {
    let app = TestApp::spawn(engine, Opts::new()).await;
    let tok = app.admin_token().await;
    let pid = app.register_named(&tok, "Existing").await;
    let before = db::snapshot(&app.sandbox).await;
    let mut accepted = Vec::new();
    for (m, t) in asgard::http::route_table() {
        if !(m == "POST" || m == "PATCH")
            || t == "/api/auth/logout"
            || t.starts_with("/api/gateway/")
        {
            continue;
        }
        let path = fill(&t, &pid, "no-such-user");
        let r = app
            .req(
                m.parse().unwrap(),
                &path,
                Some(&tok),
                Some(json!(["Pilot-array-1"])),
            )
            .await;
        if r.status != 422 {
            accepted.push(format!("{m} {path} -> {} {}", r.status, r.text));
        }
    }
    assert!(
        accepted.is_empty(),
        "JSON arrays accepted as objects:\n{}",
        accepted.join("\n")
    );
    let after = db::snapshot(&app.sandbox).await;
    assert_eq!(before.1, after.1, "row counts changed");
}

crate::both_engines!(
    bad_input_is_refused_and_writes_nothing => bad_input,
    arrays_are_not_objects => arrays,
);
