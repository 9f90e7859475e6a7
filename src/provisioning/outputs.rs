//! Splitting Terraform outputs into what a resource record may hold and what
//! goes to the secret store: an output is secret when the manifest says so or
//! Terraform marks it sensitive. Secret values are also returned for
//! redaction of the run log.
//!
//! Secrets are named `<service>/<resource name>/<output>`: a resource is
//! identified by (project, service, name), so two resources of different
//! services with one name no longer share (and destroy) each other's secrets.

use serde_json::{Map, Value, json};

use crate::catalog::Manifest;
use crate::secrets::store::secret_ref;

pub struct Split {
    /// Output name → value, or `{"secret_ref": …}` for secret ones.
    pub record: Map<String, Value>,
    /// (secret name `<service>/<resource>/<output>`, value bytes).
    pub secrets: Vec<(String, Vec<u8>)>,
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The prefix of every secret name of one resource (ends with `/`).
pub fn secret_prefix(service: &str, resource_name: &str) -> String {
    format!("{service}/{resource_name}/")
}

/// Secret names the recorded outputs (JSON text) point at in `project`.
pub fn referenced_secrets(outputs_json: &str, project: &str) -> Vec<String> {
    let Ok(Value::Object(o)) = serde_json::from_str::<Value>(outputs_json) else {
        return vec![];
    };
    o.values()
        .filter_map(|v| v.get("secret_ref").and_then(Value::as_str))
        .filter_map(|r| crate::secrets::store::parse_ref(r).ok())
        .filter(|(p, _)| p == project)
        .map(|(_, n)| n)
        .collect()
}

pub fn split(m: &Manifest, project: &str, resource_name: &str, tf: &Map<String, Value>) -> Split {
    let mut record = Map::new();
    let mut secrets = Vec::new();
    for (name, out) in tf {
        let value = out.get("value").cloned().unwrap_or(Value::Null);
        let sensitive = out
            .get("sensitive")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let declared = m.outputs.get(name).is_some_and(|o| o.secret);
        if sensitive || declared {
            let key = format!("{}{name}", secret_prefix(&m.id, resource_name));
            record.insert(
                name.clone(),
                json!({"secret_ref": secret_ref(project, &key)}),
            );
            secrets.push((key, as_text(&value).into_bytes()));
        } else {
            record.insert(name.clone(), value);
        }
    }
    Split { record, secrets }
}

/// Replace every secret value (of 6+ characters) in `text` with `[redacted]`.
pub fn redact(text: &str, secrets: &[(String, Vec<u8>)]) -> String {
    let mut out = text.to_string();
    for (_, v) in secrets {
        let s = String::from_utf8_lossy(v);
        if s.len() >= 6 {
            out = out.replace(s.as_ref(), "[redacted]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn sensitive_or_declared_outputs_become_refs() {
        let c = Catalog::load(None).unwrap();
        let m = c.get("demo-token").unwrap();
        let tf: Map<String, Value> = serde_json::from_value(json!({
            "token": {"value": "s3cr3t-value", "sensitive": true},
            "label": {"value": "hello", "sensitive": false},
        }))
        .unwrap();
        let s = split(m, "proj-2026-0001", "tok", &tf);
        assert_eq!(
            s.record["token"],
            json!({"secret_ref": "asgard://secrets/proj-2026-0001/demo-token/tok/token"})
        );
        assert_eq!(s.record["label"], json!("hello"));
        assert_eq!(
            s.secrets,
            vec![("demo-token/tok/token".to_string(), b"s3cr3t-value".to_vec())]
        );
        assert_eq!(
            referenced_secrets(
                &Value::Object(s.record.clone()).to_string(),
                "proj-2026-0001"
            ),
            vec!["demo-token/tok/token".to_string()]
        );
        assert_eq!(redact("x s3cr3t-value y", &s.secrets), "x [redacted] y");
    }

    #[test]
    fn same_name_in_two_services_gets_distinct_secrets() {
        let c = Catalog::load(None).unwrap();
        let tf: Map<String, Value> = serde_json::from_value(json!({
            "value": {"value": "v", "sensitive": true},
            "token": {"value": "t", "sensitive": true},
        }))
        .unwrap();
        let a = split(c.get("demo-token").unwrap(), "proj-2026-0001", "app", &tf);
        let b = split(
            c.get("secretsmanager-secret").unwrap(),
            "proj-2026-0001",
            "app",
            &tf,
        );
        for (x, y) in a.secrets.iter().zip(b.secrets.iter()) {
            assert_ne!(x.0, y.0);
        }
        assert!(
            !secret_prefix("demo-token", "app")
                .starts_with(&secret_prefix("secretsmanager-secret", "app"))
        );
    }
}
