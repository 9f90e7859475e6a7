//! Bad input, field by field, on every endpoint that takes a body: wrong types, missing fields, over-long strings, placeholders,
//! bad emails, unknown group, negative or absurd budgets, out-of-range
//! expiries, bad roles, bad confirmations — each a 422 invalid_request that
//! names the field, and nothing written.

use serde_json::{Value, json};

use crate::support::{Engine, Fails, Opts, TestApp, db};

fn long(n: usize) -> String {
    "x".repeat(n)
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

async fn bad_fields(engine: Engine) {
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
    let before = db::snapshot(&app.sandbox).await;
    let mut f = Fails::default();

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

    let after = db::snapshot(&app.sandbox).await;
    f.0.extend(db::changes(&before, &after));
    f.assert_none("bad fields");
}

crate::both_engines!(bad_fields_name_the_field => bad_fields);
