//! `ecs-service` grants confined to the project (issue 8, finding 2). Every
//! project shares one AWS account, so a grant may name only ARNs Asgard
//! recorded as outputs of the requesting project's live resources, or an
//! exact ARN on the operator's `provisioning.grant_allowlist`. Another
//! project's secret, a wildcard, another account, Asgard's own boot secret
//! and a destroyed resource's ARN are refused with 422 on the exact field;
//! the project's own ARNs pass, and an allowlisted one is logged at boot,
//! audited and shown on the request record.
//!
//! The binary is unarmed here (requests end `planned`), and the resources
//! whose outputs a grant may use are seeded straight into the database, as
//! a fulfilled run would record them. tests/provisioning/grants.py does the
//! same against moto with real Terraform runs.

use serde_json::{Value, json};
use sqlx::Connection;

use crate::support::{Engine, Opts, RUNBOOK_YAML, Sandbox, TestApp};

const SHARED_KMS: &str =
    "arn:aws:kms:us-east-1:123456789012:key/99999999-8888-7777-6666-555555555555";
const A_SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-key-AbCdEf";
const A_KMS: &str = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const A_DB: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-db-conn-GhIjKl";
const A_GONE_BUCKET: &str = "arn:aws:s3:::old-data-123456789012";
const B_SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:b-key-QwErTy";
const BOOT_SECRET: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:asgard/secret-key-ZxCvBn";
const OTHER_ACCOUNT: &str = "arn:aws:secretsmanager:us-east-1:999999999999:secret:app-key-AbCdEf";

/// A resource row as a finished run leaves it (state and recorded outputs).
async fn seed(sb: &Sandbox, project: &str, service: &str, name: &str, state: &str, outputs: Value) {
    let sql = "INSERT INTO resources (id, project_id, service, name, spec, state, armed, cloud, account, outputs, estimate_cents, suspended, created_by, created_at, updated_at)
               VALUES ($1, $2, $3, $4, '{}', $5, TRUE, 'aws', '123456789012', $6, 0, FALSE, 'test', $7, $7)";
    let id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now();
    let outputs = outputs.to_string();
    match sb.engine {
        Engine::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&sb.db_url).await.unwrap();
            sqlx::query(sql)
                .bind(&id)
                .bind(project)
                .bind(service)
                .bind(name)
                .bind(state)
                .bind(&outputs)
                .bind(now)
                .execute(&mut c)
                .await
                .unwrap();
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(&sb.db_url).await.unwrap();
            sqlx::query(sql)
                .bind(&id)
                .bind(project)
                .bind(service)
                .bind(name)
                .bind(state)
                .bind(&outputs)
                .bind(now)
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

fn ecs(grants: Value, secrets: Value) -> Value {
    json!({"service": "ecs-service", "name": "web", "spec": {
        "image": "public.ecr.aws/nginx/nginx:1.27", "vpc_id": "vpc-0a1b2c",
        "subnet_ids": ["subnet-0a1", "subnet-0b2"], "grants": grants, "secrets": secrets,
    }})
}

async fn confined(engine: Engine) {
    let yaml = format!("{RUNBOOK_YAML}provisioning:\n  grant_allowlist: [\"{SHARED_KMS}\"]\n");
    let app = TestApp::spawn(engine, Opts::new().process().yaml(&yaml)).await;
    assert!(
        app.log().contains("grant_allowlist") && app.log().contains(SHARED_KMS),
        "the allowlist is logged at boot: {}",
        app.log()
    );
    let admin = app.admin_token().await;
    let mut ids = Vec::new();
    for name in ["Grants A", "Grants B"] {
        let p = app
            .register_project(
                &admin,
                json!({"name": name, "owner_email": "owner@corp.example",
                "manager_email": "mgr@corp.example", "group": "platform", "budget_usd": 1000}),
            )
            .await;
        ids.push(p["project_id"].as_str().unwrap().to_string());
    }
    let (a, b) = (ids[0].clone(), ids[1].clone());
    let sb = &app.sandbox;
    let secret_ref = |p: &str, n: &str| json!({"secret_ref": format!("asgard://secrets/{p}/{n}")});
    seed(sb, &a, "secretsmanager-secret", "app-key", "fulfilled",
         json!({"secret_arn": A_SECRET, "kms_key_arn": A_KMS, "value": secret_ref(&a, "secretsmanager-secret/app-key/value")})).await;
    seed(
        sb,
        &a,
        "rds-postgres",
        "app-db",
        "fulfilled",
        json!({"secret_arn": A_DB, "password": secret_ref(&a, "rds-postgres/app-db/password")}),
    )
    .await;
    seed(
        sb,
        &a,
        "s3-bucket",
        "old-data",
        "destroyed",
        json!({"bucket_arn": A_GONE_BUCKET}),
    )
    .await;
    seed(
        sb,
        &b,
        "secretsmanager-secret",
        "b-key",
        "fulfilled",
        json!({"secret_arn": B_SECRET}),
    )
    .await;

    let path = format!("/api/projects/{a}/resources");
    for (body, field) in [
        (
            ecs(json!({"secrets_read": [A_SECRET, B_SECRET]}), json!({})),
            "spec.grants.secrets_read[1]",
        ),
        (
            ecs(
                json!({"secrets_read": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:*"]}),
                json!({}),
            ),
            "spec.grants.secrets_read[0]",
        ),
        (
            ecs(json!({"secrets_read": [OTHER_ACCOUNT]}), json!({})),
            "spec.grants.secrets_read[0]",
        ),
        (
            ecs(json!({"secrets_read": [BOOT_SECRET]}), json!({})),
            "spec.grants.secrets_read[0]",
        ),
        (
            ecs(
                json!({"kms_decrypt": [A_KMS, "arn:aws:kms:us-east-1:123456789012:key/*"]}),
                json!({}),
            ),
            "spec.grants.kms_decrypt[1]",
        ),
        (
            ecs(json!({"s3_read": [A_GONE_BUCKET]}), json!({})),
            "spec.grants.s3_read[0]",
        ),
        (
            ecs(
                json!({}),
                json!({"DATABASE_URL": format!("{A_DB}:url::"), "STOLEN": format!("{B_SECRET}:url::")}),
            ),
            "spec.secrets.STOLEN",
        ),
    ] {
        app.post(&path, Some(&admin), body)
            .await
            .expect_invalid(field);
    }
    let r = app.get(&path, Some(&admin)).await;
    r.expect(200);
    let names: Vec<Value> = r.json()["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].clone())
        .collect();
    assert!(
        !names.contains(&json!("web")) && names.len() == 2,
        "refused asks created nothing: {}",
        r.text
    );

    // The project's own ARNs pass; the allowlisted KMS key passes and is named.
    let r = app
        .post(
            &path,
            Some(&admin),
            ecs(
                json!({"secrets_read": [A_DB, A_SECRET], "kms_decrypt": [A_KMS, SHARED_KMS]}),
                json!({"DATABASE_URL": format!("{A_DB}:url::")}),
            ),
        )
        .await;
    r.expect(202);
    let v = r.json();
    assert_eq!(v["state"], "planned", "{v}");
    assert_eq!(v["allowlisted_grants"], json!([SHARED_KMS]), "{v}");
    let rid = v["request_id"].as_str().unwrap().to_string();
    let r = app.get(&format!("/api/requests/{rid}"), Some(&admin)).await;
    r.expect(200);
    assert_eq!(
        r.json()["allowlisted_grants"],
        json!([SHARED_KMS]),
        "{}",
        r.text
    );
    let r = app
        .get(&format!("/api/requests?project={a}"), Some(&admin))
        .await;
    r.expect(200);
    let rows = r.json()["requests"].as_array().unwrap().clone();
    assert!(
        rows.len() == 1 && rows[0]["allowlisted_grants"] == json!([SHARED_KMS]),
        "{}",
        r.text
    );
    let r = app
        .get(
            &format!("/api/audit?project={a}&action=resource.requested&limit=50"),
            Some(&admin),
        )
        .await;
    r.expect(200);
    let events = r.json()["events"].as_array().unwrap().clone();
    let ev: Vec<&Value> = events
        .iter()
        .filter(|e| e["target"] == rid.as_str())
        .collect();
    assert!(
        ev.len() == 1 && ev[0]["data"]["allowlisted_grants"] == json!([SHARED_KMS]),
        "{}",
        r.text
    );

    // Project B may use its own secret, and not A's.
    let path_b = format!("/api/projects/{b}/resources");
    app.post(
        &path_b,
        Some(&admin),
        ecs(json!({"secrets_read": [A_SECRET]}), json!({})),
    )
    .await
    .expect_invalid("spec.grants.secrets_read[0]");
    let r = app
        .post(
            &path_b,
            Some(&admin),
            ecs(json!({"secrets_read": [B_SECRET]}), json!({})),
        )
        .await;
    r.expect(202);
    assert_eq!(r.json()["allowlisted_grants"], json!([]), "{}", r.text);
}

/// A wildcard is no more acceptable on the operator's allowlist: the boot
/// is refused, naming the entry.
async fn wildcard_allowlist_refused(engine: Engine) {
    let sb = Sandbox::new(engine).await;
    let yaml = format!(
        "{RUNBOOK_YAML}provisioning:\n  grant_allowlist: [\"{SHARED_KMS}\", \"arn:aws:kms:us-east-1:123456789012:key/*\"]\n"
    );
    let (status, out) = TestApp::expect_refused(&sb, Opts::new().yaml(&yaml)).await;
    assert!(!status.success());
    assert!(out.contains("provisioning.grant_allowlist[1]"), "{out}");
}

crate::both_engines!(
    grants_confined_to_the_project => confined,
    grant_allowlist_takes_no_wildcard => wildcard_allowlist_refused,
);
