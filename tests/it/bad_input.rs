//! Bad input on every endpoint (SPEC §2, §4.1): malformed JSON → 400
//! invalid_json; wrong types, missing and unknown fields, over-long strings,
//! bad emails, unknown group, negative budget → 422 invalid_request naming
//! the field; a body over 1 MiB → 413; never a 5xx; and nothing is written.

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

/// The runbook body with `k` set to `v` (or removed when `v` is None).
fn reg(k: &str, v: Option<Value>) -> Value {
    let mut b = json!({"name":"Pilot","owner_email":"owner@corp.example",
        "manager_email":"mgr@corp.example","group":"platform","budget_usd":100});
    match v {
        Some(v) => b[k] = v,
        None => {
            b.as_object_mut().unwrap().remove(k);
        }
    }
    b
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
        .filter(|(m, p)| (m == "POST" || m == "PATCH") && p != "/api/auth/logout")
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
                    f.push(format!("{m} {path} {v}: no field: {}", r.text))
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

    // POST /api/projects: field by field.
    let cases: Vec<(Value, &str)> = vec![
        (reg("name", Some(json!(5))), "name"),
        (reg("name", Some(Value::Null)), "name"),
        (reg("name", None), "name"),
        (reg("name", Some(json!(long(121)))), "name"),
        (reg("name", Some(json!("   "))), "name"),
        (reg("name", Some(json!("TODO"))), "name"),
        (reg("name", Some(json!("change_me"))), "name"),
        (reg("name", Some(json!("a\u{7}b"))), "name"),
        (reg("owner_email", None), "owner_email"),
        (
            reg("owner_email", Some(json!("not-an-email"))),
            "owner_email",
        ),
        (reg("owner_email", Some(json!("a@b"))), "owner_email"),
        (reg("owner_email", Some(json!(42))), "owner_email"),
        (
            reg(
                "owner_email",
                Some(json!(format!("{}@corp.example", long(300)))),
            ),
            "owner_email",
        ),
        (reg("manager_email", None), "manager_email"),
        (
            reg("manager_email", Some(json!("two@@corp.example"))),
            "manager_email",
        ),
        (
            reg("manager_email", Some(json!("a b@corp.example"))),
            "manager_email",
        ),
        (reg("group", None), "group"),
        (reg("group", Some(json!("nope"))), "group"),
        (reg("group", Some(json!(7))), "group"),
        (reg("group", Some(json!(""))), "group"),
        (reg("budget_usd", Some(json!(-1))), "budget_usd"),
        (reg("budget_usd", Some(json!(-0.01))), "budget_usd"),
        (reg("budget_usd", Some(json!("100"))), "budget_usd"),
        (reg("budget_usd", Some(json!(true))), "budget_usd"),
        (reg("budget_usd", Some(json!(1e12))), "budget_usd"),
        (reg("classification", Some(json!("gold"))), "classification"),
        (
            reg("classification", Some(json!("critical-path"))),
            "classification",
        ),
        (reg("data_class", Some(json!("secret"))), "data_class"),
        (reg("description", Some(json!(long(2001)))), "description"),
        (reg("colour", Some(json!("red"))), "colour"),
        (reg("evidence", Some(json!("x"))), "evidence"),
        (
            reg("runbook_url", Some(json!("ftp://x"))),
            "evidence.runbook_url",
        ),
    ];
    for (body, field) in cases {
        let r = app.post("/api/projects", Some(&tok), body.clone()).await;
        f.check(
            r.check_invalid(field)
                .map_err(|e| format!("{e} (body {body})")),
        );
    }

    // PATCH /api/projects/{id}.
    let pp = format!("/api/projects/{pid}");
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": long(121)}), "name"),
        (json!({"budget_usd": -5}), "budget_usd"),
        (json!({"owner_email": "bad"}), "owner_email"),
        (json!({"manager_email": null}), "manager_email"),
        (json!({"group": "nope"}), "group"),
        (json!({"data_class": "x"}), "data_class"),
        (
            json!({"classification": "light-operational"}),
            "classification",
        ),
        (json!({"description": long(2001)}), "description"),
    ] {
        f.check(app.patch(&pp, Some(&tok), body).await.check_invalid(field));
    }

    // Keys and PATs.
    for (path, max) in [
        (format!("/api/projects/{pid}/keys"), 3650),
        ("/api/auth/tokens".to_string(), 365),
    ] {
        for (body, field) in [
            (json!({}), "name"),
            (json!({"name": 5}), "name"),
            (json!({"name": ""}), "name"),
            (json!({"name": long(65)}), "name"),
            (
                json!({"name": "a", "expires_in_days": 0}),
                "expires_in_days",
            ),
            (
                json!({"name": "a", "expires_in_days": -1}),
                "expires_in_days",
            ),
            (
                json!({"name": "a", "expires_in_days": "7"}),
                "expires_in_days",
            ),
            (
                json!({"name": "a", "expires_in_days": 1.5}),
                "expires_in_days",
            ),
            (
                json!({"name": "a", "expires_in_days": max + 1}),
                "expires_in_days",
            ),
        ] {
            f.check(app.post(&path, Some(&tok), body).await.check_invalid(field));
        }
    }

    // Users.
    let u = |k: &str, v: Value| {
        let mut b = json!({"username":"neo","email":"neo@corp.example","password":"a-long-password-1","role":"member"});
        b[k] = v;
        b
    };
    for (body, field) in [
        (json!({"username": "neo", "role": "member"}), "password"),
        (u("username", json!("bad name")), "username"),
        (u("username", json!(long(65))), "username"),
        (u("username", json!(5)), "username"),
        (u("email", json!("nope")), "email"),
        (u("password", json!("short")), "password"),
        (u("role", json!("god")), "role"),
        (u("display_name", json!(long(121))), "display_name"),
    ] {
        f.check(
            app.post("/api/users", Some(&tok), body)
                .await
                .check_invalid(field),
        );
    }
    let pu = format!("/api/users/{member}");
    for (body, field) in [
        (json!({"role": "god"}), "role"),
        (json!({"active": "yes"}), "active"),
        (json!({"display_name": long(121)}), "display_name"),
    ] {
        f.check(app.patch(&pu, Some(&tok), body).await.check_invalid(field));
    }

    // Password change, login.
    for (body, field) in [
        (json!({"current_password": "x"}), "new_password"),
        (
            json!({"current_password": app.admin_password, "new_password": "short"}),
            "new_password",
        ),
        (
            json!({"current_password": "not-the-password", "new_password": "a-long-password-2"}),
            "current_password",
        ),
    ] {
        f.check(
            app.post("/api/auth/password", Some(&tok), body)
                .await
                .check_invalid(field),
        );
    }
    for (body, field) in [
        (json!({"username": 5, "password": "x"}), "username"),
        (json!({"username": "admin"}), "password"),
    ] {
        f.check(
            app.post("/api/auth/login", None, body)
                .await
                .check_invalid(field),
        );
    }

    // Kill, unkill, decommission.
    for (body, field) in [
        (json!({}), "reason"),
        (json!({"reason": ""}), "reason"),
        (json!({"reason": 5}), "reason"),
        (json!({"reason": long(501)}), "reason"),
    ] {
        f.check(
            app.post(&format!("{pp}/kill"), Some(&tok), body)
                .await
                .check_invalid(field),
        );
    }
    f.check(
        app.post(&format!("{pp}/unkill"), Some(&tok), json!({"reason": 5}))
            .await
            .check_invalid("reason"),
    );
    for (body, field) in [
        (json!({"reason": "done"}), "confirm"),
        (
            json!({"reason": "done", "confirm": "proj-0000-0000"}),
            "confirm",
        ),
        (json!({"confirm": pid}), "reason"),
        (
            json!({"reason": "done", "confirm": pid, "destroy_data": "yes"}),
            "destroy_data",
        ),
    ] {
        f.check(
            app.post(&format!("{pp}/decommission"), Some(&tok), body)
                .await
                .check_invalid(field),
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
    if before.1 != after.1 {
        f.push(format!(
            "row counts changed: {:?} -> {:?}",
            before.1, after.1
        ));
    }
    for (t, rows) in &before.0 {
        if Some(rows) != after.0.get(t) {
            f.push(format!("table {t} changed"));
        }
    }
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
        if !(m == "POST" || m == "PATCH") || t == "/api/auth/logout" {
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
