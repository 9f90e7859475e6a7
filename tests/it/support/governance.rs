//! Governance test fixtures: evidence complete for every tier, and an app
//! with a second admin and the project owner as a member.

use serde_json::{Map, Value, json};

use super::{Engine, Opts, TestApp};

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
