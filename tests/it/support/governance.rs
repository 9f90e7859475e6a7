//! Governance test fixtures: evidence complete for every tier, and an app
//! with a second admin and the project owner as a member.

use serde_json::{Map, Value, json};

use super::{Engine, Opts, RUNBOOK_YAML, TestApp};

const ADMIN_PW: &str = "the-admin-password-1";

/// Evidence for every tier (no stack exception): each field with a value
/// of its kind.
pub fn full_evidence() -> Map<String, Value> {
    let url = json!("https://example.com/evidence");
    let mut m = Map::new();
    for f in [
        "repo_or_source_url",
        "runbook_url",
        "monitoring_or_logs_url",
        "ci_status_url",
        "critical_flow_test_or_eval_url",
        "architecture_summary_url",
        "risk_acceptance_url",
        "dr_exercise_evidence_url",
    ] {
        m.insert(f.into(), url.clone());
    }
    for f in [
        "business_owner",
        "technical_owner",
        "team_or_org_of_record",
        "support_contact",
        "incident_path",
        "slo_or_service_target",
        "rpo_rto",
        "decommission_path",
        "executive_accountable_owner",
        "audit_retention_requirement",
    ] {
        m.insert(f.into(), json!("the platform team"));
    }
    m.insert("primary_data_flows".into(), json!(["orders to billing"]));
    m.insert("critical_dependencies".into(), json!(["postgres"]));
    m.insert("state_loss_posture".into(), json!("recoverable"));
    m.insert("security_review_status".into(), json!("approved"));
    m.insert("recurring_review_date".into(), json!("2099-01-01"));
    m.insert(
        "maintainers".into(),
        json!(["owner@corp.example", "mgr@corp.example"]),
    );
    m
}

/// An app with the bootstrap admin, a second admin (Bea) and the project
/// owner as a member (Olga).
pub struct People {
    /// Passwords: a fake clock moved past a session's expiry needs new
    /// sign-ins (`relogin`).
    pub app: TestApp,
    pub admin: String,
    pub bea: String,
    pub olga: String,
}

impl People {
    /// Sign everyone in again (after the fake clock moved past the idle
    /// expiry of their sessions).
    pub async fn relogin(&mut self) {
        self.admin = self.app.admin_token().await;
        self.bea = self.app.login("bea", "bea-password-123").await;
        self.olga = self.app.login("olga", "olga-password-123").await;
    }
}

pub async fn people(engine: Engine, opts: Opts) -> People {
    let app = TestApp::spawn(engine, opts.admin_password(ADMIN_PW)).await;
    let admin = app.admin_token().await;
    app.create_user(
        &admin,
        "bea",
        "bea@corp.example",
        "bea-password-123",
        "admin",
    )
    .await;
    app.create_user(
        &admin,
        "olga",
        "owner@corp.example",
        "olga-password-123",
        "member",
    )
    .await;
    let bea = app.login("bea", "bea-password-123").await;
    let olga = app.login("olga", "olga-password-123").await;
    People {
        app,
        admin,
        bea,
        olga,
    }
}

/// A light-operational project with every evidence field filled in,
/// registered by an admin (registration goes no higher).
pub async fn light_project(s: &People, name: &str) -> String {
    let p = s
        .app
        .register_project(
            &s.admin,
            json!({"name": name, "owner_email": "owner@corp.example", "manager_email": "mgr@corp.example",
                   "group": "platform", "budget_usd": 10, "classification": "light-operational",
                   "evidence": full_evidence()}),
        )
        .await;
    p["project_id"].as_str().unwrap().to_string()
}

pub async fn tier(app: &TestApp, tok: &str, pid: &str) -> String {
    let r = app.get(&format!("/api/projects/{pid}"), Some(tok)).await;
    r.expect(200);
    r.json()["classification"].as_str().unwrap().to_string()
}

pub async fn promote(app: &TestApp, tok: &str, pid: &str, body: Value) -> super::Resp {
    app.post(&format!("/api/projects/{pid}/promotion"), Some(tok), body)
        .await
}

pub async fn inbox_ids(app: &TestApp, tok: &str) -> Vec<(String, String)> {
    let r = app
        .get("/api/requests?state=pending_approval", Some(tok))
        .await;
    r.expect(200);
    r.json()["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["type"].as_str().unwrap_or_default().to_string(),
                i["request_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub async fn audit_actions(app: &TestApp, tok: &str, pid: &str, action: &str) -> usize {
    let r = app
        .get(
            &format!("/api/audit?project={pid}&action={action}"),
            Some(tok),
        )
        .await;
    r.expect(200);
    r.json()["events"].as_array().unwrap().len()
}

/// An armed Asgard where every request waits for an admin and no run ever
/// starts: a stand-in Terraform that only answers `version`, and no service
/// auto-approves. A waiting request commits its estimate, so budget races
/// are decided by admission alone, not by a worker's timing.
pub async fn armed_never_running(engine: Engine) -> (TestApp, StandIn) {
    let dir = std::env::temp_dir().join(format!("asgard-tf-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let tf = dir.join("terraform");
    std::fs::write(
        &tf,
        "#!/bin/sh\n[ \"$1\" = version ] && echo 'Terraform v1.11.4' && exit 0\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &tf,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .unwrap();
    let yaml = format!(
        "{RUNBOOK_YAML}provisioning:\n  terraform:\n    bin: {}\n  auto_approve: {{ classifications: [] }}\n",
        tf.display()
    );
    let modules = concat!(env!("CARGO_MANIFEST_DIR"), "/modules");
    let app = TestApp::spawn(
        engine,
        Opts::new()
            .yaml(&yaml)
            .env("ASGARD_TF_MODULES_DIR", modules)
            .env("ASGARD_TF_ALLOWED", "aws:123456789012"),
    )
    .await;
    (app, StandIn(dir))
}

/// The stand-in Terraform's directory, removed when dropped.
pub struct StandIn(std::path::PathBuf);

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
