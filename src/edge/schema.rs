//! One definition per body: the JSON Schema generated from a typed input
//! (an MCP tool's arguments, a REST body), and the check of a raw body
//! against that same schema before it is parsed into the type. Every limit
//! the schema advertises (`maxLength`, `minimum`, `pattern`, `enum`, …) is
//! therefore enforced by both doors, and each refusal is an
//! `invalid_argument` naming the field (`task`, `languages[0]`). Typed
//! outputs get their schema here too (`output_schema`).
//!
//! Conventions for input types:
//! - `#[serde(deny_unknown_fields)]` on every struct (advertised as
//!   `additionalProperties: false`);
//! - an optional argument is an `Option<T>` and is advertised as `T`: absent
//!   is fine, `null` is refused. An argument where `null` means something
//!   (clear the field) says so with `#[schemars(extend("x-nullable" = true))]`;
//! - a default the server applies is advertised with
//!   `#[schemars(extend("default" = …))]`.

use std::sync::Arc;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A JSON object (an MCP `JsonObject`).
pub type JsonObject = Map<String, Value>;

use crate::catalog::schema::validate;
use crate::error::{Error, Result};

/// Marks an argument whose `null` is meaningful; removed from the schema.
const NULLABLE: &str = "x-nullable";

/// The `inputSchema` of argument type `A`: inline (no `$defs`), without the
/// root title, and with only the keywords `validate` understands.
pub fn schema_for<A: JsonSchema>() -> Arc<JsonObject> {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.meta_schema = None;
            s.inline_subschemas = true;
        })
        .into_generator();
    let Value::Object(mut root) = generator.into_root_schema_for::<A>().to_value() else {
        unreachable!("an argument type is a struct")
    };
    for k in ["title", "description", "$defs"] {
        root.remove(k);
    }
    if root
        .get("required")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        root.remove("required");
    }
    let props = root
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(props) = props {
        for p in props.values_mut() {
            tidy_argument(p);
        }
    }
    Arc::new(root)
}

/// The schema of an answer of type `T` (an MCP `outputSchema`, an OpenAPI
/// response): inline, without the root title, and describing how `T`
/// serializes, so a field that is always sent (if sometimes `null`) is
/// `required`, and only one left out when empty is optional.
pub fn output_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| {
            s.meta_schema = None;
            s.inline_subschemas = true;
            s.contract = schemars::generate::Contract::Serialize;
        })
        .into_generator();
    let mut v = generator.into_root_schema_for::<T>().to_value();
    if let Value::Object(root) = &mut v {
        for k in ["title", "$defs"] {
            root.remove(k);
        }
    }
    strip_defaults(&mut v);
    v
}

/// `Option<T>` is advertised as `T` unless marked nullable; numeric
/// `format`s and `additionalProperties: true` (the default) are dropped.
fn tidy_argument(p: &mut Value) {
    let Some(o) = p.as_object_mut() else { return };
    let nullable = o.remove(NULLABLE) == Some(Value::Bool(true));
    if !nullable && let Some(Value::Array(types)) = o.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            o.insert("type".into(), only);
        }
    }
    if !nullable && let Some(Value::Array(allowed)) = o.get_mut("enum") {
        allowed.retain(|v| !v.is_null());
    }
    strip_defaults(p);
}

fn strip_defaults(v: &mut Value) {
    if let Value::Object(o) = v {
        if o.get("default") == Some(&Value::Null) {
            o.remove("default");
        }
        if o.get("format").and_then(Value::as_str).is_some_and(|f| {
            matches!(
                f,
                "double" | "float" | "int64" | "int32" | "uint64" | "uint32" | "uint"
            )
        }) {
            o.remove("format");
        }
        if o.get("additionalProperties") == Some(&Value::Bool(true)) {
            o.remove("additionalProperties");
        }
        for sub in ["items", "properties"] {
            if let Some(s) = o.get_mut(sub) {
                match s {
                    Value::Object(m) if sub == "properties" => {
                        m.values_mut().for_each(strip_defaults);
                    }
                    other => strip_defaults(other),
                }
            }
        }
    }
}

/// Check `raw` against `schema`, then parse it into `A`.
pub fn parse<A: DeserializeOwned>(schema: &JsonObject, raw: JsonObject) -> Result<A> {
    let raw = check(schema, raw)?;
    serde_path_to_error::deserialize(Value::Object(raw)).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "arguments".to_string()
        } else {
            path
        };
        Error::invalid(field, e.into_inner().to_string())
    })
}

/// The arguments as the schema allows them, or the first refusal: a NUL
/// anywhere, an unknown argument, a value outside its schema (type, enum,
/// length, range, pattern, nested items), a missing required argument.
pub fn check(schema: &JsonObject, mut raw: JsonObject) -> Result<JsonObject> {
    if let Some(field) = crate::edge::nul::nul_path_in(&raw) {
        return Err(Error::invalid(
            field,
            "must not contain a NUL character (\\u0000)",
        ));
    }
    let empty = Map::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    if let Some(k) = raw.keys().find(|k| !props.contains_key(*k)) {
        let allowed: Vec<&str> = props.keys().map(String::as_str).collect();
        return Err(Error::invalid_hint(
            k,
            "unknown argument",
            format!("allowed arguments: {}", allowed.join(", ")),
        ));
    }
    for (k, v) in raw.iter_mut() {
        let spec = &props[k];
        // `validate` counts 2.0 as an integer; serde would not parse it into
        // an integer field, so refuse it here with the same words as a type error.
        if spec.get("type") == Some(&Value::from("integer")) && v.is_f64() {
            return Err(Error::invalid(k, "must be of type integer, got number"));
        }
        validate(k, spec, v)?;
    }
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            if !raw.contains_key(r) {
                return Err(Error::invalid(r, "is required"));
            }
        }
    }
    Ok(raw)
}

/// For an argument where `null` differs from absent (clear vs keep); it
/// lives with the domain's input checks, which use it too.
pub use crate::registry::validate::nullable;

/// The arguments of a tool that takes none.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        #[schemars(length(min = 1, max = 5))]
        name: String,
        #[schemars(range(min = 1, max = 500), extend("default" = 50))]
        limit: Option<i64>,
        langs: Option<Vec<String>>,
        #[serde(default, deserialize_with = "nullable")]
        #[schemars(extend("x-nullable" = true))]
        note: Option<Option<String>>,
        budget: Option<f64>,
    }

    fn field_of(args: Value) -> String {
        let schema = schema_for::<Sample>();
        let Value::Object(raw) = args else { panic!() };
        match parse::<Sample>(&schema, raw) {
            Ok(_) => "ok".into(),
            Err(e) => e.field().unwrap_or("?").to_string(),
        }
    }

    #[test]
    fn schema_is_plain() {
        let s = Value::Object((*schema_for::<Sample>()).clone());
        assert_eq!(
            s,
            json!({
                "type": "object",
                "additionalProperties": false,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 5},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    "langs": {"type": "array", "items": {"type": "string"}},
                    "note": {"type": ["string", "null"]},
                    "budget": {"type": "number"}
                }
            })
        );
        let empty = Value::Object((*schema_for::<NoArgs>()).clone());
        assert_eq!(
            empty,
            json!({"type": "object", "properties": {}, "additionalProperties": false})
        );
    }

    #[test]
    fn every_limit_is_enforced_on_its_field() {
        assert_eq!(field_of(json!({"name": "ab"})), "ok");
        assert_eq!(
            field_of(json!({"name": "ab", "note": null, "limit": 7})),
            "ok"
        );
        assert_eq!(field_of(json!({})), "name");
        assert_eq!(field_of(json!({"name": ""})), "name");
        assert_eq!(field_of(json!({"name": "abcdef"})), "name");
        assert_eq!(field_of(json!({"name": "ab", "limit": 0})), "limit");
        assert_eq!(field_of(json!({"name": "ab", "limit": 501})), "limit");
        assert_eq!(field_of(json!({"name": "ab", "limit": 2.0})), "limit");
        assert_eq!(field_of(json!({"name": "ab", "limit": null})), "limit");
        assert_eq!(
            field_of(json!({"name": "ab", "langs": ["a", 1]})),
            "langs[1]"
        );
        assert_eq!(field_of(json!({"name": "ab", "budget": "x"})), "budget");
        assert_eq!(field_of(json!({"name": "ab", "other": 1})), "other");
        assert_eq!(field_of(json!({"name": "a\u{0}b"})), "name");
    }
}
