//! Inputs that name cloud resources by ARN and must stay inside the
//! requesting project (`project_scoped_arns` in a manifest), and the ARN
//! syntax the operator's `grant_allowlist` entries must have.
//!
//! Every project shares one cloud account, so an input such as an IAM grant
//! could otherwise name any project's secrets, or Asgard's own. A manifest
//! lists those inputs as dotted paths (`grants.secrets_read`, `secrets`);
//! the check of their values lives in `provisioning::grants`.

use serde_json::Value;

/// Why `s` cannot be an allowlist entry, or `None` when it is a plain ARN.
/// Wildcards are refused: an allowlist names exact resources, so widening
/// it is always a deliberate, reviewable edit.
pub fn arn_problem(s: &str) -> Option<&'static str> {
    if s.contains(['*', '?']) {
        return Some("must be an exact ARN: wildcards (* and ?) are not allowed");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("must not contain spaces or control characters");
    }
    let parts: Vec<&str> = s.split(':').collect();
    let shaped = parts.len() >= 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5..].concat().is_empty();
    if !shaped {
        return Some("must be an ARN like arn:aws:kms:us-east-1:123456789012:key/…");
    }
    None
}

/// The input schema at a dotted path, following `properties`.
fn schema_at<'a>(inputs: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(inputs, |s, seg| s.get("properties")?.get(seg))
}

fn is_type(s: &Value, t: &str) -> bool {
    s.get("type").and_then(Value::as_str) == Some(t)
}

/// Check the manifest's `project_scoped_arns`: each a path of declared
/// inputs ending at a string, a list of strings or a map of strings.
pub fn check_paths(inputs: &Value, paths: &[String]) -> Result<(), String> {
    for (i, p) in paths.iter().enumerate() {
        let at = format!("project_scoped_arns[{i}]");
        if p.is_empty() || p.split('.').any(str::is_empty) {
            return Err(format!(
                "{at}: `{p}` must be a dotted path of inputs, e.g. grants.secrets_read"
            ));
        }
        let Some(s) = schema_at(inputs, p) else {
            return Err(format!("{at}: `{p}` is not among the inputs"));
        };
        let strings = |sub: Option<&Value>| sub.is_some_and(|x| is_type(x, "string"));
        let ok = is_type(s, "string")
            || (is_type(s, "array") && strings(s.get("items")))
            || (is_type(s, "object") && strings(s.get("additionalProperties")));
        if !ok {
            return Err(format!(
                "{at}: `{p}` must be a string input, a list of strings or a map of strings"
            ));
        }
    }
    Ok(())
}

/// The values at `path` in a validated spec, each with the field that names
/// it in an error (`spec.grants.secrets_read[1]`, `spec.secrets.DB_URL`).
/// A list yields its items, a map its values.
pub fn values_at<'a>(spec: &'a Value, path: &str) -> Vec<(String, &'a str)> {
    let Some(v) = path.split('.').try_fold(spec, |v, seg| v.get(seg)) else {
        return vec![];
    };
    let field = format!("spec.{path}");
    match v {
        Value::String(s) => vec![(field, s.as_str())],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, x)| Some((format!("{field}[{i}]"), x.as_str()?)))
            .collect(),
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, x)| Some((format!("{field}.{k}"), x.as_str()?)))
            .collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs() -> Value {
        json!({"type": "object", "properties": {
            "image": {"type": "string"},
            "count": {"type": "integer"},
            "secrets": {"type": "object", "additionalProperties": {"type": "string"}},
            "env": {"type": "object", "additionalProperties": {"type": "integer"}},
            "grants": {"type": "object", "properties": {
                "kms": {"type": "array", "items": {"type": "string"}},
                "flags": {"type": "array", "items": {"type": "boolean"}}
            }}
        }})
    }

    #[test]
    fn paths_must_name_string_inputs() {
        let ok = |p: &[&str]| {
            check_paths(
                &inputs(),
                &p.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        };
        assert!(ok(&["grants.kms", "secrets", "image"]).is_ok());
        for (bad, why) in [
            ("grants.nope", "not among the inputs"),
            ("nope", "not among the inputs"),
            ("grants", "must be a string input"),
            ("count", "must be a string input"),
            ("env", "must be a string input"),
            ("grants.flags", "must be a string input"),
            ("grants..kms", "dotted path"),
            ("", "dotted path"),
        ] {
            let e = ok(&["image", bad]).unwrap_err();
            assert!(
                e.starts_with("project_scoped_arns[1]") && e.contains(why),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn values_name_their_field() {
        let spec = json!({"image": "x", "secrets": {"A": "a1", "B": "b1"},
                          "grants": {"kms": ["k0", "k1"]}});
        assert_eq!(
            values_at(&spec, "grants.kms"),
            vec![
                ("spec.grants.kms[0]".to_string(), "k0"),
                ("spec.grants.kms[1]".to_string(), "k1")
            ]
        );
        assert_eq!(
            values_at(&spec, "secrets"),
            vec![
                ("spec.secrets.A".to_string(), "a1"),
                ("spec.secrets.B".to_string(), "b1")
            ]
        );
        assert_eq!(
            values_at(&spec, "image"),
            vec![("spec.image".to_string(), "x")]
        );
        assert!(values_at(&spec, "grants.absent").is_empty());
        assert!(values_at(&json!({}), "grants.kms").is_empty());
    }

    #[test]
    fn allowlist_entries_are_exact_arns() {
        assert_eq!(
            arn_problem("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab"),
            None
        );
        assert_eq!(arn_problem("arn:aws:s3:::shared-bucket"), None);
        for bad in [
            "*",
            "arn:aws:kms:us-east-1:123456789012:key/*",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-??????",
            "arn:aws:kms:us-east-1:123456789012:",
            "not-an-arn",
            "arn:aws:kms",
            "arn:aws:s3:::bucket name",
            "",
        ] {
            assert!(arn_problem(bad).is_some(), "{bad}");
        }
    }
}
