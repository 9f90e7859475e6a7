//! How far a project is from its next tier: the promotion-status rule.
//! Pure: the project's tier, whether it is frozen, its evidence and the
//! operator's requirement overrides in, the status out.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::Classification;
use super::evidence::{self, Evidence};

/// The status `promotion_status` answers. Fields are in alphabetical order,
/// the order of the JSON rendering this replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PromotionStatus {
    /// Whether a promotion to `next` could be approved without a human
    /// review: only to light-operational, with nothing missing and no signal.
    pub auto_approvable: bool,
    pub current: Classification,
    /// Evidence fields still missing for `next`.
    pub missing: Vec<String>,
    /// `null` at the top tier.
    pub next: Option<Classification>,
    pub project_id: String,
    /// Every evidence field `next` requires.
    pub required: Vec<String>,
    /// What a reviewer should look at before promoting.
    pub signals: Vec<String>,
}

/// The status of project `project_id` at tier `current`.
pub fn status(
    project_id: &str,
    current: Classification,
    killed: bool,
    ev: &Evidence,
    overrides: &BTreeMap<Classification, Vec<String>>,
) -> PromotionStatus {
    let next = current.next();
    let (missing, required) = match next {
        Some(n) => (
            evidence::missing_for(ev, n, overrides),
            evidence::required_for(n, overrides),
        ),
        None => (vec![], vec![]),
    };
    let mut signals = Vec::new();
    if ev.contains_key("stack_exception") {
        signals.push("stack_exception: the project runs outside the supported stack".to_string());
    }
    if killed {
        signals.push("frozen: the project is killed".to_string());
    }
    let auto_approvable =
        next == Some(Classification::LightOperational) && missing.is_empty() && signals.is_empty();
    PromotionStatus {
        auto_approvable,
        current,
        missing,
        next,
        project_id: project_id.to_string(),
        required,
        signals,
    }
}

/// How an asked-for promotion proceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    /// A step to light-operational with complete evidence and no signal:
    /// the tier changes now.
    Apply,
    /// Every other step: an admin who is not the requester decides.
    Approval,
}

/// Why a promotion cannot be asked for (or, on approval, applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The project is killed: frozen projects do not change tier.
    Frozen,
    /// Already at the top tier.
    AtTop,
    /// Not exactly one step up from the current tier.
    NotOneStep { next: Classification },
    /// Evidence fields the target tier requires and the project lacks.
    Missing(Vec<String>),
    /// critical-path needs a recorded risk acceptance, whatever the
    /// operator's requirement list says.
    NoRiskAcceptance,
}

/// The evidence field that records a risk acceptance.
pub const RISK_ACCEPTANCE: &str = "risk_acceptance_url";

/// Whether a promotion of a project at `current` to `target` may proceed,
/// and how. Checked when asked for and again on approval, so evidence
/// removed in between stops it.
pub fn plan(
    current: Classification,
    target: Classification,
    killed: bool,
    ev: &Evidence,
    overrides: &BTreeMap<Classification, Vec<String>>,
) -> Result<Path, Refusal> {
    if killed {
        return Err(Refusal::Frozen);
    }
    let next = current.next().ok_or(Refusal::AtTop)?;
    if target != next {
        return Err(Refusal::NotOneStep { next });
    }
    let missing = evidence::missing_for(ev, target, overrides);
    if !missing.is_empty() {
        return Err(Refusal::Missing(missing));
    }
    if target == Classification::CriticalPath && !ev.contains_key(RISK_ACCEPTANCE) {
        return Err(Refusal::NoRiskAcceptance);
    }
    let st = status("", current, killed, ev, overrides);
    Ok(if st.auto_approvable {
        Path::Apply
    } else {
        Path::Approval
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(fields: &[&str]) -> Evidence {
        fields
            .iter()
            .map(|f| ((*f).to_string(), json!("https://x.example")))
            .collect()
    }

    /// One row: the project, then what the status must say.
    struct Case {
        tier: Classification,
        killed: bool,
        evidence: Evidence,
        overrides: BTreeMap<Classification, Vec<String>>,
        next: Option<Classification>,
        missing: usize,
        signals: usize,
        auto: bool,
    }

    #[test]
    fn table() {
        use Classification::*;
        let none = BTreeMap::new();
        let mut runbook_only = BTreeMap::new();
        runbook_only.insert(LightOperational, vec!["runbook_url".to_string()]);
        let light = evidence::required_for(LightOperational, &none);
        let light: Vec<&str> = light.iter().map(String::as_str).collect();
        let mut light_and_exception = light.clone();
        light_and_exception.push("stack_exception");
        let case =
            |tier, killed, e: &[&str], o: &BTreeMap<_, _>, next, missing, signals, auto| Case {
                tier,
                killed,
                evidence: ev(e),
                overrides: o.clone(),
                next,
                missing,
                signals,
                auto,
            };
        let cases = [
            case(
                Poc,
                false,
                &[],
                &none,
                Some(LightOperational),
                light.len(),
                0,
                false,
            ),
            case(
                Poc,
                false,
                &light,
                &none,
                Some(LightOperational),
                0,
                0,
                true,
            ),
            case(
                Poc,
                true,
                &light,
                &none,
                Some(LightOperational),
                0,
                1,
                false,
            ),
            case(
                Poc,
                false,
                &light_and_exception,
                &none,
                Some(LightOperational),
                0,
                1,
                false,
            ),
            case(
                Poc,
                false,
                &["runbook_url"],
                &runbook_only,
                Some(LightOperational),
                0,
                0,
                true,
            ),
            case(
                Poc,
                false,
                &[],
                &runbook_only,
                Some(LightOperational),
                1,
                0,
                false,
            ),
            // Beyond light-operational a human always decides.
            case(
                LightOperational,
                false,
                &light,
                &none,
                Some(WideOperational),
                7,
                0,
                false,
            ),
            case(CriticalPath, false, &[], &none, None, 0, 0, false),
        ];
        for (i, c) in cases.iter().enumerate() {
            let s = status(
                "proj-2026-0001",
                c.tier,
                c.killed,
                &c.evidence,
                &c.overrides,
            );
            assert_eq!(s.next, c.next, "case {i}");
            assert_eq!(s.missing.len(), c.missing, "case {i}: {:?}", s.missing);
            assert_eq!(s.signals.len(), c.signals, "case {i}");
            assert_eq!(s.auto_approvable, c.auto, "case {i}");
            assert!(s.missing.iter().all(|m| s.required.contains(m)), "case {i}");
        }
    }

    #[test]
    fn renders_as_before() {
        let s = status(
            "proj-2026-0001",
            Classification::CriticalPath,
            false,
            &ev(&[]),
            &BTreeMap::new(),
        );
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            json!({"auto_approvable": false, "current": "critical-path", "missing": [], "next": null,
                   "project_id": "proj-2026-0001", "required": [], "signals": []})
        );
    }

    /// What a row of `one_step_rule` holds: what it is, from, to, killed,
    /// the evidence present, the overrides, and the answer.
    type Row<'a> = (
        &'a str,
        Classification,
        Classification,
        bool,
        Vec<&'a str>,
        &'a BTreeMap<Classification, Vec<String>>,
        Result<Path, Refusal>,
    );

    #[test]
    fn one_step_rule() {
        use Classification::*;
        let none = BTreeMap::new();
        let all: Vec<String> = crate::governance::EVIDENCE_FIELDS
            .iter()
            .map(|(n, _)| (*n).to_string())
            .filter(|n| n != "stack_exception")
            .collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let light = evidence::required_for(LightOperational, &none);
        let light: Vec<&str> = light.iter().map(String::as_str).collect();
        let mut light_exc = light.clone();
        light_exc.push("stack_exception");
        let no_risk: Vec<&str> = all
            .iter()
            .copied()
            .filter(|f| *f != RISK_ACCEPTANCE)
            .collect();
        // An operator list for critical-path that leaves the risk
        // acceptance out does not waive it.
        let mut lax = BTreeMap::new();
        lax.insert(CriticalPath, vec!["runbook_url".to_string()]);
        let cases: Vec<Row> = vec![
            (
                "to light, complete",
                Poc,
                LightOperational,
                false,
                light.clone(),
                &none,
                Ok(Path::Apply),
            ),
            (
                "to light, exception signal",
                Poc,
                LightOperational,
                false,
                light_exc,
                &none,
                Ok(Path::Approval),
            ),
            (
                "to light, killed",
                Poc,
                LightOperational,
                true,
                light.clone(),
                &none,
                Err(Refusal::Frozen),
            ),
            (
                "to light, incomplete",
                Poc,
                LightOperational,
                false,
                vec!["runbook_url"],
                &none,
                Err(Refusal::Missing(vec![])),
            ),
            (
                "two steps",
                Poc,
                WideOperational,
                false,
                all.clone(),
                &none,
                Err(Refusal::NotOneStep {
                    next: LightOperational,
                }),
            ),
            (
                "sideways",
                LightOperational,
                LightOperational,
                false,
                all.clone(),
                &none,
                Err(Refusal::NotOneStep {
                    next: WideOperational,
                }),
            ),
            (
                "down",
                WideOperational,
                Poc,
                false,
                all.clone(),
                &none,
                Err(Refusal::NotOneStep { next: CriticalPath }),
            ),
            (
                "to wide, complete",
                LightOperational,
                WideOperational,
                false,
                all.clone(),
                &none,
                Ok(Path::Approval),
            ),
            (
                "to wide, light evidence only",
                LightOperational,
                WideOperational,
                false,
                light.clone(),
                &none,
                Err(Refusal::Missing(vec![])),
            ),
            (
                "to critical, complete",
                WideOperational,
                CriticalPath,
                false,
                all.clone(),
                &none,
                Ok(Path::Approval),
            ),
            (
                "to critical, no risk acceptance",
                WideOperational,
                CriticalPath,
                false,
                no_risk.clone(),
                &none,
                Err(Refusal::Missing(vec![])),
            ),
            (
                "to critical, lax list, no risk acceptance",
                WideOperational,
                CriticalPath,
                false,
                no_risk.clone(),
                &lax,
                Err(Refusal::NoRiskAcceptance),
            ),
            (
                "to critical, lax list, risk accepted",
                WideOperational,
                CriticalPath,
                false,
                all.clone(),
                &lax,
                Ok(Path::Approval),
            ),
            (
                "at the top",
                CriticalPath,
                CriticalPath,
                false,
                all.clone(),
                &none,
                Err(Refusal::AtTop),
            ),
        ];
        for (what, from, to, killed, e, o, want) in cases {
            let got = plan(from, to, killed, &ev(&e), o);
            match (&got, &want) {
                // The missing list's content is the evidence rule's (tested
                // there); here only that something is missing.
                (Err(Refusal::Missing(m)), Err(Refusal::Missing(_))) => {
                    assert!(!m.is_empty(), "{what}");
                }
                _ => assert_eq!(got, want, "{what}"),
            }
        }
    }
}
