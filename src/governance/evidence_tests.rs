//! Evidence completeness as tables: which fields each tier needs (own and
//! cumulative), what an operator override changes, when a value counts as
//! present, and which values each field kind accepts (error `field` and
//! `code` asserted, never the English).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::evidence::*;
use crate::governance::Classification::{self, *};

/// (overrides, tier asked, fields required)
type OverrideCase = (
    Vec<(Classification, Vec<&'static str>)>,
    Classification,
    Vec<String>,
);
/// (field, value, Ok(normalised) | Err(()))
type KindCase = (&'static str, Value, Result<Option<Value>, ()>);

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn no_overrides() -> BTreeMap<Classification, Vec<String>> {
    BTreeMap::new()
}

/// The fields a tier adds over the one below it, by default.
fn own(tier: Classification) -> Vec<String> {
    let all = required_for(tier, &no_overrides());
    let below = Classification::ALL
        .iter()
        .take_while(|t| **t < tier)
        .last()
        .map(|t| required_for(*t, &no_overrides()))
        .unwrap_or_default();
    all.into_iter().filter(|f| !below.contains(f)).collect()
}

#[test]
fn each_tier_adds_its_own_fields() {
    let table: [(Classification, &[&str]); 4] = [
        (Poc, &[]),
        (
            LightOperational,
            &[
                "repo_or_source_url",
                "business_owner",
                "technical_owner",
                "team_or_org_of_record",
                "support_contact",
                "runbook_url",
                "monitoring_or_logs_url",
                "ci_status_url",
                "primary_data_flows",
                "critical_flow_test_or_eval_url",
                "state_loss_posture",
            ],
        ),
        (
            WideOperational,
            &[
                "security_review_status",
                "architecture_summary_url",
                "critical_dependencies",
                "incident_path",
                "slo_or_service_target",
                "rpo_rto",
                "decommission_path",
            ],
        ),
        (
            CriticalPath,
            &[
                "executive_accountable_owner",
                "risk_acceptance_url",
                "dr_exercise_evidence_url",
                "audit_retention_requirement",
                "recurring_review_date",
            ],
        ),
    ];
    // Every tier is in the table, in order.
    assert_eq!(
        table.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        Classification::ALL.to_vec()
    );
    let mut cumulative: Vec<String> = Vec::new();
    for (tier, fields) in table {
        assert_eq!(own(tier), strings(fields), "{tier:?} adds");
        cumulative.extend(strings(fields));
        assert_eq!(
            required_for(tier, &no_overrides()),
            cumulative,
            "{tier:?} needs"
        );
        // Every required field is a known field.
        for f in &cumulative {
            assert!(kind_of(f).is_some(), "{f} is not an evidence field");
        }
    }
    // Fields no tier requires (optional evidence) stay optional.
    for f in [
        "maintainers",
        "stack_exception",
        "stack_exception_renewal_date",
    ] {
        assert!(!cumulative.contains(&f.to_string()), "{f}");
    }
}

#[test]
fn overrides_replace_a_tier_own_list_only() {
    let light = required_for(LightOperational, &no_overrides());
    let wide_own = own(WideOperational);
    // (overrides, tier asked, fields required)
    let cases: Vec<OverrideCase> = vec![
        // Overriding a tier replaces its own list…
        (
            vec![(LightOperational, vec!["runbook_url"])],
            LightOperational,
            strings(&["runbook_url"]),
        ),
        // …and the tiers above still add theirs on top.
        (
            vec![(LightOperational, vec!["runbook_url"])],
            WideOperational,
            [strings(&["runbook_url"]), wide_own.clone()].concat(),
        ),
        // An empty override drops a tier's own requirement.
        (
            vec![(WideOperational, vec![])],
            WideOperational,
            light.clone(),
        ),
        // An override of a higher tier does not reach down.
        (
            vec![(CriticalPath, vec!["maintainers"])],
            LightOperational,
            light.clone(),
        ),
        // Poc may be given requirements; they carry up.
        (
            vec![(Poc, vec!["business_owner"])],
            Poc,
            strings(&["business_owner"]),
        ),
        // A field repeated across tiers is listed once, where it first appears.
        (
            vec![(CriticalPath, vec!["runbook_url", "maintainers"])],
            CriticalPath,
            [light, wide_own, strings(&["maintainers"])].concat(),
        ),
    ];
    for (ov, tier, want) in cases {
        let map: BTreeMap<Classification, Vec<String>> =
            ov.iter().map(|(t, fs)| (*t, strings(fs))).collect();
        assert_eq!(required_for(tier, &map), want, "{ov:?} at {tier:?}");
    }
}

#[test]
fn missing_counts_only_non_empty_values() {
    let ov = BTreeMap::from([(LightOperational, strings(&["runbook_url", "maintainers"]))]);
    // (stored evidence, fields still missing at light-operational)
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({}), vec!["runbook_url", "maintainers"]),
        (
            json!({"runbook_url": "https://r.example"}),
            vec!["maintainers"],
        ),
        (
            json!({"runbook_url": "", "maintainers": []}),
            vec!["runbook_url", "maintainers"],
        ),
        (
            json!({"runbook_url": null, "maintainers": ["a@b.example"]}),
            vec!["runbook_url"],
        ),
        // Something of the wrong shape is not evidence.
        (
            json!({"runbook_url": 7, "maintainers": {"a": 1}}),
            vec!["runbook_url", "maintainers"],
        ),
        (
            json!({"runbook_url": "https://r.example", "maintainers": ["a@b.example"], "extra": "x"}),
            vec![],
        ),
    ];
    for (stored, want) in cases {
        let e: Evidence = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(
            missing_for(&e, LightOperational, &ov),
            strings(&want),
            "{stored}"
        );
        // Nothing is ever missing at poc by default.
        assert!(missing_for(&e, Poc, &no_overrides()).is_empty());
    }
}

#[test]
fn field_kinds_accept_and_refuse() {
    let long = "x".repeat(2001);
    // (field, value, Ok(normalised) | Err(()))
    let cases: Vec<KindCase> = vec![
        ("business_owner", json!("  Ada  "), Ok(Some(json!("Ada")))),
        ("business_owner", json!(""), Err(())),
        ("business_owner", json!("   "), Err(())),
        ("business_owner", json!(long), Err(())),
        (
            "business_owner",
            json!("x".repeat(2000)),
            Ok(Some(json!("x".repeat(2000)))),
        ),
        ("business_owner", json!(3), Err(())),
        ("business_owner", Value::Null, Ok(None)),
        (
            "runbook_url",
            json!("http://r.example/x"),
            Ok(Some(json!("http://r.example/x"))),
        ),
        ("runbook_url", json!("https://"), Err(())),
        ("runbook_url", json!("https:///path"), Err(())),
        ("runbook_url", json!("https://a b"), Err(())),
        ("runbook_url", json!("javascript:alert(1)"), Err(())),
        (
            "recurring_review_date",
            json!("2027-01-31"),
            Ok(Some(json!("2027-01-31"))),
        ),
        ("recurring_review_date", json!("31/01/2027"), Err(())),
        ("recurring_review_date", json!("2027-02-29"), Err(())),
        (
            "state_loss_posture",
            json!("durable-critical"),
            Ok(Some(json!("durable-critical"))),
        ),
        ("state_loss_posture", json!("Durable-Critical"), Err(())),
        (
            "security_review_status",
            json!("waived"),
            Ok(Some(json!("waived"))),
        ),
        ("security_review_status", json!("done"), Err(())),
        (
            "primary_data_flows",
            json!(["a", " b "]),
            Ok(Some(json!(["a", "b"]))),
        ),
        ("primary_data_flows", json!([]), Ok(Some(json!([])))),
        ("primary_data_flows", json!("a"), Err(())),
        ("primary_data_flows", json!(["a", ""]), Err(())),
        ("primary_data_flows", json!(vec!["a"; 101]), Err(())),
        (
            "primary_data_flows",
            json!(vec!["a"; 100]),
            Ok(Some(json!(vec!["a"; 100]))),
        ),
        (
            "maintainers",
            json!(["Ops@Corp.Example"]),
            Ok(Some(json!(["ops@corp.example"]))),
        ),
        ("maintainers", json!(["not-an-email"]), Err(())),
    ];
    for (name, value, want) in cases {
        let got = validate_field(name, &value);
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w, "{name} = {value}"),
            (Err(e), Err(())) => {
                assert_eq!(e.code(), "invalid_request", "{name} = {value}");
                // The e-mail check names its own field; all others name the evidence field.
                assert_eq!(
                    e.field(),
                    Some(format!("evidence.{name}").as_str()),
                    "{name} = {value}"
                );
            }
            (g, w) => panic!("{name} = {value}: got {g:?}, want {w:?}"),
        }
    }
    let e = validate_field("shoe_size", &json!("42")).unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_request", Some("evidence.shoe_size"))
    );
    // Every field has exactly one kind.
    let mut names: Vec<&str> = EVIDENCE_FIELDS.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), EVIDENCE_FIELDS.len());
}
