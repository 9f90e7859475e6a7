//! The checks a request passes before it becomes a row: spec against the
//! service's input schema (locked inputs refused), tier range, the target
//! allowlist (whether it needs an approval is `admission`'s). Pure
//! functions, unit-tested.

use serde_json::{Map, Value};

use crate::catalog::{Manifest, schema};
use crate::config::AllowedTarget;
use crate::error::{Error, Result};
use crate::governance::Classification;

/// Validate the agent's spec and return the effective spec (defaults filled).
pub fn effective_spec(
    m: &Manifest,
    spec: Option<&Map<String, Value>>,
    name: &str,
) -> Result<Value> {
    let mut obj = spec.cloned().unwrap_or_default();
    // The runbook passes the resource name inside the spec too; accept it
    // when it agrees with the resource name, since Asgard sets `name` itself.
    if let Some(n) = obj.get("name") {
        let props_have_name = m
            .inputs
            .get("properties")
            .and_then(|p| p.get("name"))
            .is_some();
        if !props_have_name {
            if n.as_str() != Some(name) {
                return Err(Error::invalid_hint(
                    "spec.name",
                    "differs from the resource name",
                    "omit spec.name or make it equal to `name`",
                ));
            }
            obj.remove("name");
        }
    }
    if let Some(k) = m.locked.iter().find(|k| obj.contains_key(*k)) {
        return Err(Error::invalid_hint(
            format!("spec.{k}"),
            "is locked by the operator",
            "remove it; the operator sets this input for every request",
        ));
    }
    let mut spec = Value::Object(obj);
    schema::validate("spec", &m.inputs, &mut spec)?;
    Ok(canonical(spec))
}

/// One text per equal spec, so that re-requests compare equal: numbers with
/// no fraction become integers (`32.0` is `32`), object keys are sorted.
pub fn canonical(v: Value) -> Value {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            // 2^53: beyond it f64 no longer holds every integer exactly.
            Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        Value::Object(o) => {
            let mut entries: Vec<(String, Value)> = o.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        other => other,
    }
}

/// Whether a recorded spec (JSON text, maybe written before specs were
/// canonical) is the same ask as `spec`.
pub fn same_spec(recorded: &str, spec: &Value) -> bool {
    serde_json::from_str::<Value>(recorded).is_ok_and(|r| canonical(r) == *spec)
}

pub fn check_tier(m: &Manifest, tier: Classification) -> Result<()> {
    if tier < m.classification_min || tier > m.classification_max {
        return Err(Error::forbidden(
            format!(
                "service {} is available to projects from {} to {}, and this project is {}",
                m.id,
                m.classification_min.as_str(),
                m.classification_max.as_str(),
                tier.as_str()
            ),
            "promote the project (request_promotion) or pick another service",
        ));
    }
    Ok(())
}

/// The allowed target account for the service's cloud. Provider-free
/// services (`cloud: none`) need none.
pub fn target_account(m: &Manifest, allowed: &[AllowedTarget]) -> Result<Option<String>> {
    if m.cloud == "none" {
        return Ok(None);
    }
    match allowed.iter().find(|a| a.cloud == m.cloud) {
        Some(a) => Ok(Some(a.account.clone())),
        None => {
            let list: Vec<String> = allowed
                .iter()
                .map(|a| format!("{}:{}", a.cloud, a.account))
                .collect();
            Err(Error::forbidden(
                format!(
                    "no {} account is on this Asgard's allowlist (allowed: {})",
                    m.cloud,
                    if list.is_empty() {
                        "none".to_string()
                    } else {
                        list.join(", ")
                    }
                ),
                "ask an operator to add it (ASGARD_TF_ALLOWED or provisioning.allowed)",
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        let Value::Object(o) = v else { panic!() };
        o
    }

    fn ecs() -> Manifest {
        Catalog::load(None)
            .unwrap()
            .get("ecs-service")
            .unwrap()
            .clone()
    }

    #[test]
    fn spec_rules() {
        let c = Catalog::load(None).unwrap();
        let ecr = c.get("ecr-repository").unwrap();
        assert!(effective_spec(ecr, Some(&obj(json!({"name": "asgard"}))), "asgard").is_ok());
        assert!(effective_spec(ecr, None, "asgard").is_ok());
        assert!(effective_spec(ecr, Some(&obj(json!({"name": "other"}))), "asgard").is_err());
        assert!(effective_spec(ecr, Some(&obj(json!({"nope": 1}))), "asgard").is_err());
        for l in &ecr.locked {
            let e =
                effective_spec(ecr, Some(&obj(json!({l.as_str(): true}))), "asgard").unwrap_err();
            assert!(e.message().contains("locked"));
        }
        assert!(
            effective_spec(&ecs(), Some(&obj(json!({}))), "web").is_err(),
            "image etc. are required"
        );
    }

    #[test]
    fn equal_numbers_make_equal_specs() {
        let c = Catalog::load(None).unwrap();
        let tok = c.get("demo-token").unwrap();
        let a = effective_spec(tok, Some(&obj(json!({"label": "x", "length": 32}))), "t").unwrap();
        let b =
            effective_spec(tok, Some(&obj(json!({"length": 32.0, "label": "x"}))), "t").unwrap();
        assert_eq!(a.to_string(), b.to_string());
        assert!(same_spec(r#"{"length":32.0,"label":"x"}"#, &a));
        assert!(!same_spec(r#"{"length":33,"label":"x"}"#, &a));
        assert_eq!(canonical(json!([1.5, 2.0, -0.0])), json!([1.5, 2, 0]));
    }

    #[test]
    fn allowlist() {
        let m = ecs();
        let c = Catalog::load(None).unwrap();
        let token = c.get("demo-token").unwrap();
        assert_eq!(target_account(token, &[]).unwrap(), None);
        assert!(target_account(&m, &[]).is_err());
        let allowed = vec![AllowedTarget {
            cloud: "aws".into(),
            account: "123456789012".into(),
        }];
        assert_eq!(
            target_account(&m, &allowed).unwrap().as_deref(),
            Some("123456789012")
        );
    }
}
