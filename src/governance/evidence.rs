//! Evidence fields: their kinds, validation, and the per-tier
//! requirement lists (cumulative; `classification_requirements` in the config
//! replaces a tier's own list).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Classification;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Url,
    Date,
    Emails,
    List,
    Enum(&'static [&'static str]),
}

const STATE_LOSS: &[&str] = &["stateless", "recoverable", "durable-critical"];
const SEC_REVIEW: &[&str] = &[
    "not-started",
    "requested",
    "in-review",
    "approved",
    "waived",
];

/// Every evidence field and its kind. Changing a name here breaks stored evidence.
pub const EVIDENCE_FIELDS: &[(&str, FieldKind)] = &[
    ("repo_or_source_url", FieldKind::Url),
    ("business_owner", FieldKind::Text),
    ("technical_owner", FieldKind::Text),
    ("team_or_org_of_record", FieldKind::Text),
    ("support_contact", FieldKind::Text),
    ("runbook_url", FieldKind::Url),
    ("monitoring_or_logs_url", FieldKind::Url),
    ("ci_status_url", FieldKind::Url),
    ("primary_data_flows", FieldKind::List),
    ("critical_flow_test_or_eval_url", FieldKind::Url),
    ("state_loss_posture", FieldKind::Enum(STATE_LOSS)),
    ("security_review_status", FieldKind::Enum(SEC_REVIEW)),
    ("architecture_summary_url", FieldKind::Url),
    ("critical_dependencies", FieldKind::List),
    ("incident_path", FieldKind::Text),
    ("slo_or_service_target", FieldKind::Text),
    ("rpo_rto", FieldKind::Text),
    ("decommission_path", FieldKind::Text),
    ("executive_accountable_owner", FieldKind::Text),
    ("risk_acceptance_url", FieldKind::Url),
    ("dr_exercise_evidence_url", FieldKind::Url),
    ("audit_retention_requirement", FieldKind::Text),
    ("recurring_review_date", FieldKind::Date),
    ("maintainers", FieldKind::Emails),
    ("stack_exception", FieldKind::Text),
    ("stack_exception_renewal_date", FieldKind::Date),
];

const LIGHT: &[&str] = &[
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
];
const WIDE: &[&str] = &[
    "security_review_status",
    "architecture_summary_url",
    "critical_dependencies",
    "incident_path",
    "slo_or_service_target",
    "rpo_rto",
    "decommission_path",
];
const CRITICAL: &[&str] = &[
    "executive_accountable_owner",
    "risk_acceptance_url",
    "dr_exercise_evidence_url",
    "audit_retention_requirement",
    "recurring_review_date",
];

/// Validated evidence: field name → JSON value (string or array of strings).
pub type Evidence = BTreeMap<String, Value>;

/// Evidence as a body sends it: field name → value, `null` clearing one.
/// Its schema is built from `EVIDENCE_FIELDS`, the one table of names and
/// kinds, so the parser, the OpenAPI body and the MCP `inputSchema` cannot
/// disagree on them; `validate_field` then normalises each value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EvidenceChanges(pub BTreeMap<String, Value>);

impl schemars::JsonSchema for EvidenceChanges {
    fn schema_name() -> Cow<'static, str> {
        "EvidenceChanges".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let props: Map<String, Value> = EVIDENCE_FIELDS
            .iter()
            .map(|(n, k)| ((*n).to_string(), field_schema(*k)))
            .collect();
        let mut s = Map::new();
        s.insert("type".into(), json!("object"));
        s.insert(
            "description".into(),
            json!("Evidence fields (docs/governance.md describes each); null clears one."),
        );
        s.insert("properties".into(), Value::Object(props));
        s.insert("additionalProperties".into(), json!(false));
        s.into()
    }
}

/// The schema of one evidence value of `kind`; `null` clears the field.
pub fn field_schema(kind: FieldKind) -> Value {
    let text = json!({"type": "string", "minLength": 1, "maxLength": 2000});
    match kind {
        FieldKind::Text => json!({"type": ["string", "null"], "minLength": 1, "maxLength": 2000}),
        FieldKind::Url => json!({"type": ["string", "null"], "format": "uri", "maxLength": 2000,
                                 "pattern": "^\\s*https?://[^/\\s]"}),
        FieldKind::Date => json!({"type": ["string", "null"], "format": "date"}),
        FieldKind::Enum(allowed) => {
            let mut e: Vec<Value> = allowed.iter().map(|a| json!(a)).collect();
            e.push(Value::Null);
            json!({"type": ["string", "null"], "enum": e})
        }
        FieldKind::List => json!({"type": ["array", "null"], "maxItems": 100, "items": text}),
        FieldKind::Emails => json!({"type": ["array", "null"], "maxItems": 100,
                                    "items": {"type": "string", "format": "email"}}),
    }
}

pub fn kind_of(name: &str) -> Option<FieldKind> {
    EVIDENCE_FIELDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
}

/// Validate one evidence value, returning its normalised form. `null` clears.
pub fn validate_field(name: &str, value: &Value) -> Result<Option<Value>> {
    let field = format!("evidence.{name}");
    let Some(kind) = kind_of(name) else {
        return Err(Error::invalid_hint(
            field,
            "unknown evidence field",
            format!(
                "known evidence fields: {} (docs/governance.md describes each)",
                EVIDENCE_FIELDS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    if value.is_null() {
        return Ok(None);
    }
    let text = |v: &Value| -> Result<String> {
        match v.as_str().map(str::trim) {
            Some(s) if !s.is_empty() && s.chars().count() <= 2000 => Ok(s.to_string()),
            _ => Err(Error::invalid(
                &field,
                "must be a non-empty string of at most 2000 characters",
            )),
        }
    };
    let out = match kind {
        FieldKind::Text => Value::String(text(value)?),
        FieldKind::Url => {
            let s = text(value)?;
            if !is_http_url(&s) {
                return Err(Error::invalid(&field, "must be an http(s) URL"));
            }
            Value::String(s)
        }
        FieldKind::Date => {
            let s = text(value)?;
            chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| Error::invalid(&field, "must be a date like 2027-01-31"))?;
            Value::String(s)
        }
        FieldKind::Enum(allowed) => {
            let s = text(value)?;
            if !allowed.contains(&s.as_str()) {
                return Err(Error::invalid(
                    &field,
                    format!("must be one of {}", allowed.join(", ")),
                ));
            }
            Value::String(s)
        }
        FieldKind::List | FieldKind::Emails => {
            let Some(items) = value.as_array() else {
                return Err(Error::invalid(&field, "must be an array of strings"));
            };
            if items.len() > 100 {
                return Err(Error::invalid(&field, "at most 100 items"));
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let mut s = text(item)?;
                if kind == FieldKind::Emails {
                    s = crate::registry::validate::email(&field, &s)?;
                }
                out.push(Value::String(s));
            }
            Value::Array(out)
        }
    };
    Ok(Some(out))
}

fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

/// Whether evidence field `name` holds a value (a non-empty string or list).
pub fn present(e: &Evidence, name: &str) -> bool {
    match e.get(name) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        _ => false,
    }
}

/// The fields required to hold `tier`, cumulative over the lower tiers.
pub fn required_for(
    tier: Classification,
    overrides: &BTreeMap<Classification, Vec<String>>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in Classification::ALL {
        if t > tier {
            break;
        }
        let own: Vec<String> = match overrides.get(&t) {
            Some(list) => list.clone(),
            None => match t {
                Classification::Poc => vec![],
                Classification::LightOperational => LIGHT.iter().map(|s| s.to_string()).collect(),
                Classification::WideOperational => WIDE.iter().map(|s| s.to_string()).collect(),
                Classification::CriticalPath => CRITICAL.iter().map(|s| s.to_string()).collect(),
            },
        };
        for f in own {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    out
}

/// Fields still missing for `tier`.
pub fn missing_for(
    e: &Evidence,
    tier: Classification,
    overrides: &BTreeMap<Classification, Vec<String>>,
) -> Vec<String> {
    required_for(tier, overrides)
        .into_iter()
        .filter(|f| !present(e, f))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn validates_kinds() {
        assert!(validate_field("runbook_url", &json!("https://x.example/rb")).is_ok());
        assert!(validate_field("runbook_url", &json!("ftp://x")).is_err());
        assert!(validate_field("recurring_review_date", &json!("2027-02-30")).is_err());
        assert!(validate_field("state_loss_posture", &json!("stateless")).is_ok());
        assert!(validate_field("state_loss_posture", &json!("meh")).is_err());
        assert!(
            validate_field("maintainers", &json!(["A@B.example"]))
                .unwrap()
                .unwrap()
                == json!(["a@b.example"])
        );
        assert!(validate_field("maintainers", &json!(["nope"])).is_err());
        assert!(validate_field("shoe_size", &json!("42")).is_err());
        assert_eq!(validate_field("runbook_url", &Value::Null).unwrap(), None);
    }

    #[test]
    fn requirements_are_cumulative_and_overridable() {
        let none = BTreeMap::new();
        assert!(required_for(Classification::Poc, &none).is_empty());
        assert_eq!(
            required_for(Classification::LightOperational, &none).len(),
            LIGHT.len()
        );
        assert_eq!(
            required_for(Classification::CriticalPath, &none).len(),
            LIGHT.len() + WIDE.len() + CRITICAL.len()
        );
        let mut o = BTreeMap::new();
        o.insert(
            Classification::LightOperational,
            vec!["runbook_url".to_string()],
        );
        let mut e = Evidence::new();
        assert_eq!(
            missing_for(&e, Classification::LightOperational, &o),
            vec!["runbook_url"]
        );
        e.insert("runbook_url".into(), json!("https://r.example"));
        assert!(missing_for(&e, Classification::LightOperational, &o).is_empty());
    }
}
