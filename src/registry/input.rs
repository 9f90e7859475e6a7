//! Parsing registration and patch bodies into typed values. Bodies are JSON
//! objects whose evidence fields may sit at the top level or in
//! an `evidence` object, so serde's `deny_unknown_fields` cannot express the
//! rules; this module walks the object and names every offending field.

use serde_json::Value;

use super::{usd_to_cents, validate};
use crate::error::{Error, Result};
use crate::governance::{Classification, DATA_CLASSES, Evidence, evidence};

#[derive(Debug, Default)]
pub struct NewProject {
    pub name: String,
    pub owner_email: Option<String>,
    pub manager_email: Option<String>,
    pub group: Option<String>,
    pub budget_cents: i64,
    pub classification: Classification,
    pub data_class: String,
    pub description: Option<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Default)]
pub struct ProjectPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub budget_cents: Option<i64>,
    pub manager_email: Option<String>,
    pub owner_email: Option<String>,
    pub group: Option<String>,
    pub data_class: Option<String>,
    /// Evidence changes: `None` clears the field.
    pub evidence: Vec<(String, Option<Value>)>,
}

fn str_field(field: &str, v: &Value) -> Result<String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| Error::invalid(field, "must be a string"))
}

fn opt_str(field: &str, v: &Value) -> Result<Option<String>> {
    if v.is_null() {
        Ok(None)
    } else {
        str_field(field, v).map(Some)
    }
}

fn unknown(field: &str) -> Error {
    Error::invalid_hint(
        field,
        "unknown field",
        "remove it; allowed fields are name, owner_email, manager_email, group, budget_usd, classification, data_class, description, evidence and the evidence field names",
    )
}

fn data_class(v: &Value) -> Result<String> {
    let s = str_field("data_class", v)?;
    if DATA_CLASSES.contains(&s.as_str()) {
        Ok(s)
    } else {
        Err(Error::invalid(
            "data_class",
            format!("must be one of {}", DATA_CLASSES.join(", ")),
        ))
    }
}

fn evidence_object(v: &Value, out: &mut Vec<(String, Option<Value>)>) -> Result<()> {
    let Some(obj) = v.as_object() else {
        return Err(Error::invalid(
            "evidence",
            "must be an object of evidence fields",
        ));
    };
    for (k, val) in obj {
        out.push((k.clone(), evidence::validate_field(k, val)?));
    }
    Ok(())
}

pub fn parse_new(body: &Value) -> Result<NewProject> {
    let Some(obj) = body.as_object() else {
        return Err(Error::invalid("(body)", "must be a JSON object"));
    };
    let mut n = NewProject {
        data_class: "internal".into(),
        ..Default::default()
    };
    let mut name = None;
    let mut ev = Vec::new();
    for (k, v) in obj {
        match k.as_str() {
            "name" => name = Some(validate::project_name(&str_field("name", v)?)?),
            "owner_email" => {
                n.owner_email = opt_str(k, v)?.map(|e| validate::email(k, &e)).transpose()?;
            }
            "manager_email" => {
                n.manager_email = opt_str(k, v)?.map(|e| validate::email(k, &e)).transpose()?;
            }
            "group" => n.group = opt_str(k, v)?.map(|g| g.trim().to_string()),
            "budget_usd" => n.budget_cents = if v.is_null() { 0 } else { usd_to_cents(k, v)? },
            "classification" => {
                if !v.is_null() {
                    let s = str_field(k, v)?;
                    n.classification = Classification::parse(&s).ok_or_else(|| {
                        Error::invalid(k, "must be one of poc, light-operational, wide-operational, critical-path")
                    })?;
                }
            }
            "data_class" => {
                if !v.is_null() {
                    n.data_class = data_class(v)?;
                }
            }
            "description" => {
                n.description = validate::opt_text(k, opt_str(k, v)?.as_deref(), 2000)?;
            }
            "evidence" => evidence_object(v, &mut ev)?,
            other if evidence::kind_of(other).is_some() => {
                ev.push((other.to_string(), evidence::validate_field(other, v)?));
            }
            other => return Err(unknown(other)),
        }
    }
    n.name = name.ok_or_else(|| Error::invalid("name", "is required"))?;
    n.evidence = ev
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    Ok(n)
}

pub fn parse_patch(body: &Value) -> Result<ProjectPatch> {
    let Some(obj) = body.as_object() else {
        return Err(Error::invalid("(body)", "must be a JSON object"));
    };
    let mut p = ProjectPatch::default();
    for (k, v) in obj {
        match k.as_str() {
            "name" => p.name = Some(validate::project_name(&str_field(k, v)?)?),
            "description" => {
                p.description = Some(validate::opt_text(k, opt_str(k, v)?.as_deref(), 2000)?);
            }
            "budget_usd" => p.budget_cents = Some(usd_to_cents(k, v)?),
            "manager_email" => p.manager_email = Some(validate::email(k, &str_field(k, v)?)?),
            "owner_email" => p.owner_email = Some(validate::email(k, &str_field(k, v)?)?),
            "group" => p.group = Some(str_field(k, v)?.trim().to_string()),
            "data_class" => p.data_class = Some(data_class(v)?),
            "evidence" => evidence_object(v, &mut p.evidence)?,
            "classification" => {
                return Err(Error::invalid_hint(
                    k,
                    "cannot be changed by PATCH",
                    "use POST /api/projects/{id}/promotion or /demote",
                ));
            }
            other if evidence::kind_of(other).is_some() => p
                .evidence
                .push((other.to_string(), evidence::validate_field(other, v)?)),
            other => return Err(unknown(other)),
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runbook_body() {
        let n = parse_new(&json!({"name":"Pilot","owner_email":"owner@corp.example","manager_email":"mgr@corp.example","group":"platform","budget_usd":100})).unwrap();
        assert_eq!(n.budget_cents, 10_000);
        assert_eq!(n.classification, Classification::Poc);
        assert_eq!(n.data_class, "internal");
    }

    #[test]
    fn errors_name_fields() {
        let f = |b: Value| {
            parse_new(&b)
                .unwrap_err()
                .field()
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(f(json!({"owner_email":"a@b.c"})), "name");
        assert_eq!(f(json!({"name": 5})), "name");
        assert_eq!(f(json!({"name":"P","budget_usd":-1})), "budget_usd");
        assert_eq!(f(json!({"name":"P","budget_usd":"100"})), "budget_usd");
        assert_eq!(f(json!({"name":"P","owner_email":"nope"})), "owner_email");
        assert_eq!(f(json!({"name":"P","colour":"red"})), "colour");
        assert_eq!(f(json!({"name":"P","data_class":"secret"})), "data_class");
        assert_eq!(
            f(json!({"name":"P","runbook_url":"ftp://x"})),
            "evidence.runbook_url"
        );
        assert_eq!(
            f(json!({"name":"P","classification":"gold"})),
            "classification"
        );
        assert!(parse_new(&json!([1])).is_err());
    }

    #[test]
    fn patch_merges() {
        let p = parse_patch(&json!({"budget_usd": 5, "evidence": {"runbook_url": null}})).unwrap();
        assert_eq!(p.budget_cents, Some(500));
        assert_eq!(p.evidence, vec![("runbook_url".to_string(), None)]);
        assert!(parse_patch(&json!({"classification":"poc"})).is_err());
    }
}
