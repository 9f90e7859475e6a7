//! The approval rule per tier (`approval_reasons`) as a table over the
//! real catalog's services and the default policy.

use super::tests::ceilings;
use super::*;
use crate::catalog::Catalog;
use crate::governance::Classification;

/// The approval rule per tier, over the real catalog's services and the
/// default policy: (what, service, tier, estimate USD, others USD, overdue,
/// gated, the reasons' codes or "auto").
#[test]
fn auto_approval_per_tier() {
    use Classification as C;
    let cat = Catalog::load(None).unwrap();
    let policy = AutoApprove::default();
    type Row = (
        &'static str,
        &'static str,
        C,
        f64,
        f64,
        bool,
        bool,
        &'static str,
    );
    let rows: Vec<Row> = vec![
        // poc: 50 per resource, 500 for the project.
        (
            "poc: an ECR repository",
            "ecr-repository",
            C::Poc,
            1.0,
            0.0,
            false,
            false,
            "auto",
        ),
        (
            "poc: at the resource ceiling",
            "s3-bucket",
            C::Poc,
            50.0,
            0.0,
            false,
            false,
            "auto",
        ),
        (
            "poc: above it",
            "s3-bucket",
            C::Poc,
            50.01,
            0.0,
            false,
            false,
            "over_resource_ceiling",
        ),
        (
            "poc: past the project ceiling",
            "s3-bucket",
            C::Poc,
            1.0,
            499.5,
            false,
            false,
            "over_project_ceiling",
        ),
        (
            "poc: rds always asks",
            "rds-postgres",
            C::Poc,
            12.1,
            0.0,
            false,
            false,
            "service_needs_approval",
        ),
        (
            "poc: overdue",
            "ecr-repository",
            C::Poc,
            1.0,
            0.0,
            true,
            false,
            "review_overdue",
        ),
        // light-operational: 100 per resource, 1000 for the project; the
        // runbook's appendix: ECR and the secret run, RDS and ECS ask.
        (
            "light: the appendix's ECR",
            "ecr-repository",
            C::LightOperational,
            1.0,
            0.0,
            false,
            false,
            "auto",
        ),
        (
            "light: the appendix's secret",
            "secretsmanager-secret",
            C::LightOperational,
            1.4,
            1.0,
            false,
            false,
            "auto",
        ),
        (
            "light: the appendix's RDS",
            "rds-postgres",
            C::LightOperational,
            12.1,
            2.4,
            false,
            false,
            "service_needs_approval",
        ),
        (
            "light: the appendix's ECS",
            "ecs-service",
            C::LightOperational,
            22.0,
            14.5,
            false,
            false,
            "service_needs_approval",
        ),
        (
            "light: 100 is within",
            "s3-bucket",
            C::LightOperational,
            100.0,
            0.0,
            false,
            false,
            "auto",
        ),
        (
            "light: above 100",
            "s3-bucket",
            C::LightOperational,
            100.5,
            0.0,
            false,
            false,
            "over_resource_ceiling",
        ),
        (
            "light: past 1000",
            "s3-bucket",
            C::LightOperational,
            2.0,
            999.0,
            false,
            false,
            "over_project_ceiling",
        ),
        (
            "light: overdue",
            "secretsmanager-secret",
            C::LightOperational,
            1.4,
            0.0,
            true,
            false,
            "review_overdue",
        ),
        (
            "light: a gated resource's change",
            "s3-bucket",
            C::LightOperational,
            1.0,
            0.0,
            false,
            true,
            "approval_gated",
        ),
        // wide-operational: a lower 25 per resource.
        (
            "wide: a secret",
            "secretsmanager-secret",
            C::WideOperational,
            1.4,
            0.0,
            false,
            false,
            "auto",
        ),
        (
            "wide: above 25",
            "s3-bucket",
            C::WideOperational,
            30.0,
            0.0,
            false,
            false,
            "over_resource_ceiling",
        ),
        (
            "wide: past 1000",
            "s3-bucket",
            C::WideOperational,
            1.0,
            1000.0,
            false,
            false,
            "over_project_ceiling",
        ),
        (
            "wide: ecs asks",
            "ecs-service",
            C::WideOperational,
            22.0,
            0.0,
            false,
            false,
            "service_needs_approval",
        ),
        // critical-path: 10 per resource.
        (
            "critical: a secret",
            "secretsmanager-secret",
            C::CriticalPath,
            1.4,
            0.0,
            false,
            false,
            "auto",
        ),
        (
            "critical: above 10",
            "s3-bucket",
            C::CriticalPath,
            10.5,
            0.0,
            false,
            false,
            "over_resource_ceiling",
        ),
        (
            "critical: every reason at once",
            "rds-postgres",
            C::CriticalPath,
            12.1,
            995.0,
            true,
            true,
            "service_needs_approval,approval_gated,review_overdue,over_resource_ceiling,over_project_ceiling",
        ),
    ];
    for (what, svc, tier, est, others, overdue, gated, want) in rows {
        let m = cat.get(svc).unwrap();
        let why = approval_reasons(&Ask {
            service: m,
            tier,
            review_overdue: overdue,
            gated,
            estimate: (est * 100.0_f64).round() as i64,
            others: (others * 100.0_f64).round() as i64,
            policy: &policy,
        });
        let got = why
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let got = if got.is_empty() {
            "auto".to_string()
        } else {
            got
        };
        assert_eq!(got, want, "{what}");
    }
    // A tier switched off asks for everything, even a free service, and
    // says only that (the ceilings are not the reason).
    let off = AutoApprove::default().with(C::CriticalPath, ceilings(0.0, 1000.0));
    let why = approval_reasons(&Ask {
        service: cat.get("demo-token").unwrap(),
        tier: C::CriticalPath,
        review_overdue: false,
        gated: false,
        estimate: 0,
        others: 0,
        policy: &off,
    });
    assert_eq!(
        why.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(),
        ["tier_needs_approval"]
    );
}
