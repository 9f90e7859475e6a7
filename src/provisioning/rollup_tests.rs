//! The rollup's pure parts: spend to date, grouping, CSV cells.

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn at(hours: i64) -> DateTime<Utc> {
    t0() + Duration::hours(hours)
}

fn run(hours: i64, monthly: Option<i64>) -> Applied {
    Applied {
        at: at(hours),
        monthly_cents: monthly,
    }
}

#[test]
fn spend_is_the_estimate_pro_rata_while_provisioned() {
    // (runs, now in hours, spend in cents)
    let cases: Vec<(Vec<Applied>, i64, f64)> = vec![
        (vec![], 100, 0.0),
        // A full month at 73.00 USD.
        (vec![run(0, Some(7_300))], 730, 7_300.0),
        // Half a month.
        (vec![run(0, Some(7_300))], 365, 3_650.0),
        // Destroyed after 73 hours: nothing after.
        (vec![run(0, Some(7_300)), run(73, None)], 730, 730.0),
        // Resized after 73 hours from 73.00 to 146.00 USD.
        (
            vec![run(0, Some(7_300)), run(73, Some(14_600))],
            146,
            730.0 + 1_460.0,
        ),
        // Destroyed and created again.
        (
            vec![run(0, Some(7_300)), run(10, None), run(20, Some(7_300))],
            30,
            200.0,
        ),
        // A run stamped after `now` (clock skew) adds nothing negative.
        (vec![run(10, Some(7_300))], 5, 0.0),
        // A zero estimate costs nothing.
        (vec![run(0, Some(0))], 730, 0.0),
    ];
    for (i, (runs, now, want)) in cases.iter().enumerate() {
        let got = spend_cents(runs, at(*now));
        assert!((got - want).abs() < 1e-6, "case {i}: {got} != {want}");
    }
}

fn project(
    id: &str,
    grp: Option<&str>,
    tier: Classification,
    budget: i64,
    committed: i64,
) -> CostProject {
    CostProject {
        id: id.into(),
        name: format!("name of {id}"),
        owner_email: "o@corp.example".into(),
        grp: grp.map(str::to_string),
        cost_center: grp.map(|g| format!("CC-{g}")),
        tier,
        budget_cents: budget,
        committed_cents: committed,
        spend_cents: 50.0,
    }
}

#[test]
fn groups_sum_their_projects() {
    use Classification::*;
    let ps = vec![
        project("proj-2026-0001", Some("platform"), Poc, 10_000, 1_000),
        project("proj-2026-0002", Some("platform"), LightOperational, 0, 300),
        project("proj-2026-0003", None, Poc, 5_000, 0),
    ];
    let names: HashMap<String, String> = [("platform".to_string(), "Platform".to_string())].into();
    // (by, rows as (key, label, projects, budget, committed, spend))
    type Row<'a> = (Option<&'a str>, Option<&'a str>, u64, f64, f64, f64);
    let cases: Vec<(RollupBy, Vec<Row>)> = vec![
        (
            RollupBy::Group,
            vec![
                (None, None, 1, 50.0, 0.0, 0.5),
                (Some("platform"), Some("Platform"), 2, 100.0, 13.0, 1.0),
            ],
        ),
        (
            RollupBy::CostCenter,
            vec![
                (None, None, 1, 50.0, 0.0, 0.5),
                (Some("CC-platform"), None, 2, 100.0, 13.0, 1.0),
            ],
        ),
        (
            RollupBy::Classification,
            vec![
                (Some("light-operational"), None, 1, 0.0, 3.0, 0.5),
                (Some("poc"), None, 2, 150.0, 10.0, 1.0),
            ],
        ),
        (
            RollupBy::Project,
            vec![
                (
                    Some("proj-2026-0001"),
                    Some("name of proj-2026-0001"),
                    1,
                    100.0,
                    10.0,
                    0.5,
                ),
                (
                    Some("proj-2026-0002"),
                    Some("name of proj-2026-0002"),
                    1,
                    0.0,
                    3.0,
                    0.5,
                ),
                (
                    Some("proj-2026-0003"),
                    Some("name of proj-2026-0003"),
                    1,
                    50.0,
                    0.0,
                    0.5,
                ),
            ],
        ),
        (
            RollupBy::Owner,
            vec![(Some("o@corp.example"), None, 3, 150.0, 13.0, 1.5)],
        ),
    ];
    for (by, want) in cases {
        let r = group(&ps, by, &names, t0());
        let got: Vec<Row> = r
            .rows
            .iter()
            .map(|x| {
                (
                    x.key.as_deref(),
                    x.label.as_deref(),
                    x.projects,
                    x.budget_usd,
                    x.committed_monthly_usd,
                    x.estimated_spend_to_date_usd,
                )
            })
            .collect();
        assert_eq!(got, want, "{by:?}");
        assert_eq!(r.totals.projects, 3);
        assert_eq!(r.totals.committed_monthly_usd, 13.0);
        assert_eq!(r.totals.budget_usd, 150.0);
        assert!(r.spend_to_date.estimate);
    }
}

#[test]
fn the_by_parameter() {
    let cases = [
        (None, Some(RollupBy::Project)),
        (Some(""), Some(RollupBy::Project)),
        (Some("group"), Some(RollupBy::Group)),
        (Some("cost_center"), Some(RollupBy::CostCenter)),
        (Some("classification"), Some(RollupBy::Classification)),
        (Some("owner"), Some(RollupBy::Owner)),
        (Some("Group"), None),
        (Some("tier; drop"), None),
    ];
    for (given, want) in cases {
        match (RollupBy::parse(given), want) {
            (Ok(b), Some(w)) => assert_eq!(b, w, "{given:?}"),
            (Err(e), None) => assert_eq!(e.field(), Some("by"), "{given:?}"),
            (got, _) => panic!("{given:?}: {got:?}"),
        }
    }
}

#[test]
fn csv_cells_are_quoted_and_never_formulas() {
    let cases = [
        ("plain", "plain"),
        ("", ""),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
    ];
    for (raw, want) in cases {
        assert_eq!(csv_cell(raw), want, "{raw:?}");
    }
}

#[test]
fn csv_has_a_header_and_one_line_per_row() {
    let first = project(
        "proj-2026-0001",
        Some("platform"),
        Classification::Poc,
        10_000,
        1_000,
    );
    let mut p = first.clone();
    p.id = "proj-2026-0002".into();
    p.name = "=cmd|' /C calc'!A0, evil".into();
    let r = group(&[first, p], RollupBy::Project, &HashMap::new(), t0());
    let csv = r.to_csv();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(
        lines,
        [
            "key,label,projects,budget_usd,committed_monthly_usd,estimated_spend_to_date_usd",
            "proj-2026-0001,name of proj-2026-0001,1,100.00,10.00,0.50",
            "proj-2026-0002,\"'=cmd|' /C calc'!A0, evil\",1,100.00,10.00,0.50",
            "",
        ]
    );
}
