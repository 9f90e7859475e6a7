//! A small JSON Schema validator for service inputs: the subset manifests use
//! (`type`, `enum`, `pattern`, `minimum`/`maximum`, `minLength`/`maxLength`,
//! `items`, `minItems`/`maxItems`, `properties`, `required`,
//! `additionalProperties: false`, `default`). Each error names the dotted
//! path of the offending input. Defaults are filled in, so the recorded spec
//! is the effective one.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Check a manifest's schema uses only what this validator understands, so a
/// typo in an operator's manifest refuses the boot instead of being ignored.
pub fn check_schema(path: &str, s: &Value) -> std::result::Result<(), String> {
    let Some(obj) = s.as_object() else {
        return Err(format!("{path}: must be an object"));
    };
    const KNOWN: &[&str] = &[
        "type",
        "enum",
        "pattern",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "properties",
        "required",
        "additionalProperties",
        "propertyNames",
        "default",
        "description",
        "title",
        "examples",
        "format",
    ];
    for (k, v) in obj {
        if !KNOWN.contains(&k.as_str()) {
            return Err(format!("{path}: unsupported schema keyword `{k}`"));
        }
        match k.as_str() {
            "pattern" => {
                let p = v
                    .as_str()
                    .ok_or(format!("{path}.pattern: must be a string"))?;
                regex::Regex::new(p).map_err(|e| format!("{path}.pattern: {e}"))?;
            }
            "properties" => {
                let props = v
                    .as_object()
                    .ok_or(format!("{path}.properties: must be an object"))?;
                for (name, sub) in props {
                    check_schema(&format!("{path}.properties.{name}"), sub)?;
                }
            }
            "items" | "propertyNames" => check_schema(&format!("{path}.{k}"), v)?,
            "additionalProperties" if !v.is_boolean() => {
                check_schema(&format!("{path}.additionalProperties"), v)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Validate `v` against `s`, filling defaults into objects. `path` names it.
pub fn validate(path: &str, s: &Value, v: &mut Value) -> Result<()> {
    let Some(schema) = s.as_object() else {
        return Ok(());
    };
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(x) => vec![x.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        if !types.is_empty() && !types.iter().any(|t| type_ok(t, v)) {
            return Err(Error::invalid(
                path,
                format!(
                    "must be of type {}, got {}",
                    types.join(" or "),
                    describe(v)
                ),
            ));
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(v)
    {
        let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
        return Err(Error::invalid(
            path,
            format!("must be one of {}", list.join(", ")),
        ));
    }
    match v {
        Value::String(sv) => {
            let n = sv.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && n < min
            {
                return Err(Error::invalid(
                    path,
                    format!("must be at least {min} characters"),
                ));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && n > max
            {
                return Err(Error::invalid(
                    path,
                    format!("must be at most {max} characters"),
                ));
            }
            if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
                let re = regex::Regex::new(p).map_err(Error::internal)?;
                if !re.is_match(sv) {
                    return Err(Error::invalid(path, format!("must match the pattern {p}")));
                }
            }
        }
        Value::Number(num) => {
            let f = num.as_f64().unwrap_or(0.0);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && f < min
            {
                return Err(Error::invalid(path, format!("must be at least {min}")));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && f > max
            {
                return Err(Error::invalid(path, format!("must be at most {max}")));
            }
        }
        Value::Array(items) => {
            let n = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && n < min
            {
                return Err(Error::invalid(path, format!("needs at least {min} items")));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && n > max
            {
                return Err(Error::invalid(path, format!("takes at most {max} items")));
            }
            if schema.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
                for (i, item) in items.iter().enumerate() {
                    if items[..i].contains(item) {
                        return Err(Error::invalid(
                            format!("{path}[{i}]"),
                            "repeats an earlier item",
                        ));
                    }
                }
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    validate(&format!("{path}[{i}]"), item_schema, item)?;
                }
            }
        }
        Value::Object(map) => validate_object(path, schema, map)?,
        _ => {}
    }
    Ok(())
}

fn validate_object(
    path: &str,
    schema: &Map<String, Value>,
    map: &mut Map<String, Value>,
) -> Result<()> {
    let empty = Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match schema.get("additionalProperties") {
        Some(Value::Bool(false)) => {
            if let Some(k) = map.keys().find(|k| !props.contains_key(*k)) {
                let allowed: Vec<&str> = props.keys().map(String::as_str).collect();
                return Err(Error::invalid_hint(
                    join(k),
                    "unknown input",
                    format!("allowed inputs: {}", allowed.join(", ")),
                ));
            }
        }
        Some(extra @ Value::Object(_)) => {
            for (k, val) in map.iter_mut().filter(|(k, _)| !props.contains_key(*k)) {
                validate(&join(k), extra, val)?;
            }
        }
        _ => {}
    }
    if let Some(names) = schema.get("propertyNames") {
        for k in map.keys() {
            validate(&join(k), names, &mut Value::String(k.clone()))?;
        }
    }
    if let Some(Value::Array(req)) = schema.get("required") {
        for r in req.iter().filter_map(Value::as_str) {
            if !map.contains_key(r) {
                return Err(Error::invalid(join(r), "is required"));
            }
        }
    }
    for (k, sub) in props {
        match map.get_mut(k) {
            Some(val) => validate(&join(k), sub, val)?,
            None => {
                if let Some(d) = sub.get("default") {
                    map.insert(k.clone(), d.clone());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({"type": "object", "additionalProperties": false, "required": ["image"], "properties": {
            "image": {"type": "string", "minLength": 1},
            "cpu": {"type": "string", "enum": ["256", "512"], "default": "256"},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 8080},
            "subnets": {"type": "array", "items": {"type": "string", "pattern": "^subnet-"}, "minItems": 2},
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            "grants": {"type": "object", "additionalProperties": false, "properties": {"kms": {"type": "array", "items": {"type": "string"}}}}
        }})
    }

    fn err(v: Value) -> String {
        let mut v = v;
        validate("spec", &schema(), &mut v)
            .unwrap_err()
            .field()
            .unwrap()
            .to_string()
    }

    #[test]
    fn fills_defaults() {
        let mut v = json!({"image": "x"});
        validate("spec", &schema(), &mut v).unwrap();
        assert_eq!(v, json!({"image": "x", "cpu": "256", "port": 8080}));
    }

    #[test]
    fn names_offending_paths() {
        assert_eq!(err(json!({})), "spec.image");
        assert_eq!(err(json!({"image": "x", "colour": 1})), "spec.colour");
        assert_eq!(err(json!({"image": 5})), "spec.image");
        assert_eq!(err(json!({"image": "x", "cpu": "999"})), "spec.cpu");
        assert_eq!(err(json!({"image": "x", "port": 0})), "spec.port");
        assert_eq!(err(json!({"image": "x", "port": 1.5})), "spec.port");
        assert_eq!(
            err(json!({"image": "x", "subnets": ["subnet-a"]})),
            "spec.subnets"
        );
        assert_eq!(
            err(json!({"image": "x", "subnets": ["subnet-a", "vpc-b"]})),
            "spec.subnets[1]"
        );
        assert_eq!(err(json!({"image": "x", "env": {"A": 1}})), "spec.env.A");
        assert_eq!(
            err(json!({"image": "x", "grants": {"s3": []}})),
            "spec.grants.s3"
        );
    }

    #[test]
    fn schema_check_refuses_unknown_keywords() {
        assert!(check_schema("inputs", &schema()).is_ok());
        assert!(check_schema("inputs", &json!({"type": "object", "oneOf": []})).is_err());
        assert!(check_schema("inputs", &json!({"properties": {"a": {"pattern": "("}}})).is_err());
    }
}
